export { HandsOff, type LoggedEvent } from './handsOff.ts'
export {
  ALLIANCE_NATION,
  ALLIANCE_ORGANISATION,
  type AlliedNetwork,
  distanceKm,
  NATIONS,
  NETWORKS,
  networkById,
  ORGANISATION_ENTRIES,
  ORGANISATIONS,
} from './networks.ts'
export {
  BatchRejectedError,
  runSimulator,
  type SimulatorLogger,
  type SimulatorOptions,
  type SimulatorProgress,
  type SimulatorResult,
} from './poster.ts'
export { createRandom, hashSeed, type Random, type Seed } from './random.ts'
export {
  createScenario,
  isScenarioName,
  SCENARIO_NAMES,
  type Scenario,
  type ScenarioName,
  type ScenarioOptions,
  type TimedEvent,
  takeEvents,
  takeUntil,
} from './scenario.ts'
