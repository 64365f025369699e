export { fold, reduce } from './reduce.ts'
export {
  isOpen,
  type NetworkPosture,
  networkPostures,
  openCountsBySeverity,
  openIncidentsBySeverity,
  recentActivity,
  type StateJson,
  severityRank,
  stateToJson,
} from './selectors.ts'
export {
  type AdvisoryState,
  type IncidentState,
  initialState,
  type NetworkState,
  RECENT_LIMIT,
  type State,
} from './state.ts'
export { makeEvent } from './testing.ts'
export { audienceKey, canSee, defaultMarking, type Visible } from './visibility.ts'
