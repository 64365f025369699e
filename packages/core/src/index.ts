export {
  audienceMarking,
  type DecideContext,
  type DecidedEvent,
  type Decision,
  decide,
  extractMentions,
  incidentVisibility,
  networkStateOf,
  type Rejection,
  type RejectionCode,
  TASK_TRANSITIONS,
  taskVisibility,
} from './decide.ts'
export {
  type HandoverAdvisory,
  type HandoverBrief,
  HandoverBuilder,
  type HandoverCounts,
  type HandoverIncident,
  type HandoverTask,
  handoverBrief,
  handoverMarkdown,
} from './handover.ts'
export { fold, reduce } from './reduce.ts'
export {
  eventTime,
  happenedBy,
  REPLAY_CLOCKS,
  type ReplayClock,
  replayFromScratch,
  type SeekPlan,
  type Snapshot,
  SnapshotIndex,
  type SnapshotIndexOptions,
  type VisibleFilter,
} from './replay.ts'
export {
  commentsForIncident,
  isAssignedTo,
  isOpen,
  isOverdue,
  type NetworkPosture,
  networkPostures,
  openCountsBySeverity,
  openIncidentsBySeverity,
  overdueTasks,
  recentActivity,
  type StateJson,
  severityRank,
  stateToJson,
  tasksFor,
  tasksForIncident,
} from './selectors.ts'
export {
  type AdvisoryState,
  type BookmarkState,
  type CommentState,
  type IncidentLink,
  type IncidentState,
  initialState,
  type LinkRelation,
  type NetworkState,
  RECENT_LIMIT,
  type State,
  type TaskState,
} from './state.ts'
export { makeEvent } from './testing.ts'
export { audienceKey, canSee, defaultMarking, highestTlp, tlpRank, type Visible, viewerKey } from './visibility.ts'
