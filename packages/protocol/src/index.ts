export { canonicalJson } from './canonical.ts'
export {
  assert,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  exhaustiveSwitchError,
  type FieldIssue,
  WatchfloorError,
} from './errors.ts'
export {
  Actor,
  EVENT_TYPES,
  EventInput,
  type EventOf,
  type EventType,
  eventPayloads,
  IncidentStatus,
  Location,
  MAX_EVENTS_PER_POST,
  Marking,
  NetworkKind,
  type NewEvent,
  type PayloadOf,
  Posture,
  PROTOCOL_VERSION,
  SEVERITIES,
  Severity,
  Source,
  type StoredEvent,
  TLP_LEVELS,
  Tlp,
} from './events.ts'
export {
  type CheckpointMessage,
  type ClientToServerEvents,
  type EventsMessage,
  type HeartbeatMessage,
  type ResyncMessage,
  type ServerToClientEvents,
  type SubscribeAck,
  SubscribeRequest,
} from './socket.ts'
export { fieldIssues, parseOrThrow } from './validate.ts'
export { ROLES, Role, type Viewer } from './viewer.ts'
