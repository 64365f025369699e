import { randomUUID } from 'node:crypto'
import {
  canSee,
  type DecidedEvent,
  decide,
  extractMentions,
  incidentVisibility,
  type OwnerLookup,
  pictureOrganisations,
  type Rejection,
  type State,
  type Target,
  taskVisibility,
  teamMaySee,
  type Visible,
} from '@watchfloor/core'
import {
  COMMAND_EVENTS,
  COMMAND_IDS_DRAWN,
  type Command,
  type CommandAck,
  canonicalJson,
  commandEventId,
  type ErrorBody,
  EventInput,
  parseCommand,
  type StoredEvent,
  type Viewer,
  WatchfloorError,
} from '@watchfloor/protocol'
import type { EventStore } from '@watchfloor/store'
import express from 'express'
import type { Logger } from 'pino'
import { type Access, type Caller, callerOf } from '../access/access.ts'
import { viewerOf } from '../access/tokens.ts'
import { errorBody, httpStatus, readOnlyReason } from '../http/errors.ts'
import { messageArgs } from '../live/acks.ts'
import type { WatchSocket } from '../live/gateway.ts'
import type { StateCache } from '../read/projection.ts'

/** A promise queue: one task at a time, in the order they came. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work)
    this.tail = result.catch(() => {})
    return result
  }
}

/**
 * Coordination commands, for REST and the socket alike: validate, bring the caller's own
 * picture up to date (the fold of what it may see), `decide` on it, append the events
 * (acknowledged once committed). Deciding on the caller's picture means a refusal, its
 * message, its `current` and every version come from what the caller may see [C17].
 *
 * The caller is checked again inside the lock (`Access.current`), just before the fold: a command
 * that waited in the queue or for the lock is refused (401, as the door would answer now) when its
 * token was revoked or its account disabled meanwhile, and decided with the roles, organisation and
 * communities the caller has now.
 *
 * Race safety: the fold-decide-append of a command runs under a mutex in this
 * process and, on a store shared by several processes (PostgreSQL), under the
 * store's `exclusive('commands')` lock (an advisory lock), taken before the fold
 * and released after the append has committed. So two commands, on any
 * processes, never decide on the same version: the second folds the first's
 * events (they reach everyone who may see the target [C4]) and gets `conflict` [C3]. Events posted raw through `POST /api/v1/events`
 * are not serialised with commands.
 *
 * Idempotency: a command with a `commandId` gets event ids (and the ids in their payloads) derived
 * from it and the caller (`commandEventId`), not random ones. Under the same lock, before deciding,
 * the caller's picture is searched for them: when the command's events are there (a retry whose
 * first answer was lost), it is answered with them as stored and its target's version now, and
 * nothing is appended. The log is searched by those ids; the answer holds only the caller's own
 * events that it may see [C17].
 */
export class CommandService {
  private readonly mutex = new Mutex()

  constructor(
    private readonly store: EventStore,
    /** Each caller's own picture: what a command is decided on. */
    private readonly states: StateCache,
    /** Who owns each incident and how its latest report marks it (`FullState.owners`) [C18]. */
    private readonly owners: IncidentOwners,
    /** The caller as its credential says now, or the door's refusal (`Access.current`). */
    private readonly callers: Pick<Access, 'current'>,
    private readonly logger: Logger,
    /** Counts each command by type and outcome (`watchfloor_commands_total`, ops/metrics.ts). */
    private readonly metrics?: { command(body: unknown, outcome: string): void },
  ) {}

  /**
   * Handle one command body for a caller; refusals come back as `{ ok: false, error, current? }`.
   * With `directory`, a task for a team is refused unless the team is an organisation of it.
   */
  async handle(caller: Caller, body: unknown, directory?: TeamDirectory): Promise<CommandAck<Target>> {
    try {
      const ack = await this.decided(caller, body, directory)
      this.metrics?.command(body, ack.ok ? 'accepted' : ack.error.code)
      return ack
    } catch (error) {
      this.metrics?.command(body, 'internal')
      throw error
    }
  }

  private async decided(caller: Caller, body: unknown, directory?: TeamDirectory): Promise<CommandAck<Target>> {
    try {
      const readOnly = readOnlyReason(caller) // [A1, A7]
      if (readOnly) throw readOnly
      const command = parseCommand(body)
      return await this.mutex.run(() =>
        this.locked(async (held) => {
          // checked again now that the command holds the lock, however long it waited for it
          const now = await this.callers.current(caller)
          const stillReadOnly = readOnlyReason(now)
          if (stillReadOnly) throw stillReadOnly
          return this.decideAndAppend(viewerOf(now), command, held, directory)
        }),
      )
    } catch (error) {
      if (error instanceof WatchfloorError) return { ok: false, error: error.toBody() }
      throw error
    }
  }

  private locked<T>(work: (held: () => boolean) => Promise<T>): Promise<T> {
    return this.store.exclusive ? this.store.exclusive('commands', work) : work(() => true)
  }

  private async decideAndAppend(
    viewer: Viewer,
    command: Command,
    held: () => boolean,
    directory: TeamDirectory | undefined,
  ): Promise<CommandAck<Target>> {
    // [C17] decided on the caller's own picture, so a refusal says only what the caller may see
    const state = await this.states.fresh(viewer)
    const ids = command.commandId === undefined ? undefined : new CommandIds(command.commandId, viewer)
    if (ids !== undefined) {
      const before = await this.repeated(viewer, state, command, ids, await this.seqOfCommand(ids))
      if (before !== undefined) return before
    }
    // a retry of a command already in the log was answered above, whatever the directory says now
    const noTeam = unknownTeam(command, viewer, directory, state)
    if (noTeam) throw noTeam
    const newId = ids === undefined ? randomUUID : () => ids.next()
    // before any other rule: a target cut off from the caller is missing, as decide answers first [C1]
    const about = incidentsOf(command, state)
    const cutOff = about.length === 0 ? undefined : withdrawn(viewer, command, about, state, await this.owners.fresh())
    if (cutOff) return refusal(viewer, cutOff)
    const decision = decide(state, command, { viewer, now: new Date().toISOString(), newId })
    if (!decision.ok) return refusal(viewer, decision.rejection)
    const unseen = teamCannotSee(command, viewer, directory, decision.events)
    if (unseen) throw unseen
    // held to the schema a raw event is: the log then checks, exports and restores as it was written
    const invalid = decision.events.find((event) => !EventInput.safeParse(event).success)
    if (invalid !== undefined)
      throw new Error(`${command.type} decided an event its schema refuses (${invalid.type}): nothing appended`)
    // the lock lost with its connection: another process may be deciding on the same version now
    if (!held()) throw new WatchfloorError('unavailable', 'the database connection was lost; send the command again')
    let results: Awaited<ReturnType<EventStore['append']>>
    try {
      results = await this.store.append(decision.events)
    } catch (error) {
      // [L3] a derived id already in the log, taken by another event (a raw post): answered from
      // what the caller may see, never with the conflict's seq of an event it may not
      const seq = ids === undefined ? undefined : conflictSeq(error, ids)
      if (ids === undefined || seq === undefined) throw error
      return (await this.repeated(viewer, state, command, ids, seq)) ?? reused()
    }
    const seqs = new Set(results.map((r) => r.seq))
    const first = Math.min(...seqs)
    // [D14] the answer holds only what the caller may see (decide refuses a command whose events it could not)
    const stored = (await this.store.readAfter(first - 1, Math.max(...seqs) - first + 1)).filter(
      (e) => seqs.has(e.seq) && canSee(viewer, e),
    )
    this.logger.debug({ type: command.type, user: viewer.userId, seqs: [...seqs] }, 'command accepted')
    return { ok: true, events: stored, version: decision.version }
  }

  /** Where the command's first event stands in the log, looked up by its derived ids (if it is there). */
  private async seqOfCommand(ids: CommandIds): Promise<number | undefined> {
    const found = [...(await this.store.seqsOf(ids.candidates)).values()]
    return found.length === 0 ? undefined : Math.min(...found)
  }

  /**
   * The answer to a command whose events are already in the log at `seq` (its first one): those
   * events as stored and its target's version now, as the first answer said, when the caller may
   * see them, made them and asked the same; a refusal when the `commandId` made something else.
   * Undefined (decide as new) when nothing is known at `seq` or the caller may not see it.
   */
  private async repeated(
    viewer: Viewer,
    state: State,
    command: Command,
    ids: CommandIds,
    seq: number | undefined,
  ): Promise<CommandAck<Target> | undefined> {
    if (seq === undefined) return undefined
    const events = (await this.store.readAfter(seq - 1, LOOKAHEAD)).filter(
      (e) => ids.derived(e.id) && canSee(viewer, e),
    )
    const [first] = events
    if (first === undefined) return undefined
    // [C17] what the caller's picture holds: its own events of this command, about a target it sees
    const mine = events.every((e) => e.actor?.user === viewer.userId && e.actor.organisation === viewer.organisation)
    if (!mine || !asksFor(command, first)) return reused()
    const version = versionNow(state, viewer, command, first)
    if (version === undefined) return undefined
    this.logger.debug({ type: command.type, user: viewer.userId, seqs: events.map((e) => e.seq) }, 'command repeated')
    return { ok: true, events, version }
  }
}

/** Organisations by id (the server's directory, access/directory.ts): a task's team must be one. */
export interface TeamDirectory {
  organisation(id: string): { nation: string } | undefined
  communitiesOf(organisation: string): string[]
  /** Is this the nation of an organisation of the directory? */
  isNation(name: string): boolean
}

/**
 * Who owns each incident of the whole log, and how its owner's latest report marks it
 * (read/projection.ts `OwnerIndex`), up to date with every commit before the call.
 */
export interface IncidentOwners {
  fresh(): Promise<{ incidents: OwnerLookup; reportOf(incidentId: string): Visible | undefined }>
}

/**
 * [C18] A command about an incident (or a task or comment of one, or a link to one) whose owner has
 * since marked it so that the caller may no longer see it is `not_found`, as one it never saw. The
 * caller's own picture still holds the incident as it last saw it (the report that narrowed it is
 * one it may not see), so deciding on that alone would let an organisation cut off keep changing
 * the incident, its events marked as they were before it was cut off. Says nothing the caller did
 * not know: only that what it saw is no longer shared with it.
 */
function withdrawn(
  viewer: Viewer,
  command: Command,
  about: readonly string[],
  state: State,
  owners: Awaited<ReturnType<IncidentOwners['fresh']>>,
): Rejection | undefined {
  for (const id of about) {
    const owner = owners.incidents.get(id)?.organisation
    // judged only where the caller's copy is the owner's incident: two first reports of one id
    // racing (raw posts are not serialised) leave an organisation holding its own claim [R12]
    if (owner === undefined || state.incidents.get(id)?.organisation !== owner) continue
    const report = owners.reportOf(id)
    if (report === undefined || canSee(viewer, report)) continue
    const task = command.type.startsWith('task.') && command.type !== 'task.create' && 'taskId' in command
    // as decide answers for one that does not exist [C1]
    return { code: 'not_found', rule: 'C1', message: task ? `no task ${command.taskId}` : `no incident ${id}` }
  }
  return undefined
}

/** The incidents a command is about, as the caller's picture knows them: its incident, a link's other one, its task's. */
function incidentsOf(command: Command, state: State): string[] {
  const ids: string[] = []
  if ('incidentId' in command && command.incidentId !== undefined) ids.push(command.incidentId)
  if (command.type === 'incident.link') ids.push(command.otherIncidentId)
  if ('taskId' in command && command.taskId !== undefined) {
    const task = state.tasks.get(command.taskId)
    if (task !== undefined) ids.push(task.incidentId)
  }
  return ids
}

/**
 * A `validation` error naming `assignee` when `task.create` or `task.assign` gives the task to a
 * team of another organisation of the directory that may not see it (its events' markings): nobody
 * there could ever see or take it. A team known only from the caller's picture (a relay's) has no
 * nation or communities here, so it is not judged.
 */
function teamCannotSee(
  command: Command,
  viewer: Viewer,
  directory: TeamDirectory | undefined,
  events: readonly DecidedEvent[],
): WatchfloorError | undefined {
  if (directory === undefined || (command.type !== 'task.create' && command.type !== 'task.assign')) return undefined
  const { assignee } = command
  if (assignee?.kind !== 'team' || assignee.organisation === viewer.organisation) return undefined
  const organisation = directory.organisation(assignee.organisation)
  if (organisation === undefined) return undefined
  // judged on what the caller may know of the team [C19]
  const team = {
    organisation: assignee.organisation,
    nation: organisation.nation,
    communities: directory.communitiesOf(assignee.organisation).filter((c) => viewer.communities?.includes(c)),
  }
  const placed = (name: string) =>
    directory.organisation(name) !== undefined ||
    directory.isNation(name) ||
    (viewer.communities?.includes(name) ?? false)
  const given = events.filter((event) => event.type === 'task.created' || event.type === 'task.assigned')
  if (given.every((event) => teamMaySee(team, event, placed))) return undefined
  const message = `team ${assignee.organisation} may not see this task (its marking does not reach ${assignee.organisation}): give it to a team the incident is shared with`
  return new WatchfloorError('validation', message, {
    issues: [{ path: 'assignee.organisation', message: 'the task is not shared with this organisation' }],
  })
}

/**
 * A `validation` error naming `assignee.organisation` when `task.create` or `task.assign` gives the
 * task to a team that is no organisation of the directory, of the caller's picture
 * (`pictureOrganisations`) nor the caller's own: nobody could ever see or take it. Undefined when the assignee is fine, or there is no directory to ask.
 */
function unknownTeam(
  command: Command,
  viewer: Viewer,
  directory: TeamDirectory | undefined,
  state: State,
): WatchfloorError | undefined {
  if (directory === undefined || (command.type !== 'task.create' && command.type !== 'task.assign')) return undefined
  const { assignee } = command
  if (assignee?.kind !== 'team' || assignee.organisation === viewer.organisation) return undefined
  if (directory.organisation(assignee.organisation) !== undefined) return undefined
  // one the caller's own picture names (a relay's organisations own networks and incidents without
  // an account here): the caller's picture, so the answer tells nothing of what it may not see
  if (pictureOrganisations(state).has(assignee.organisation)) return undefined
  const message = `no organisation "${assignee.organisation}": a task's team is an organisation of the directory, or one your own incidents and networks name, given by its id (such as cert-lv)`
  return new WatchfloorError('validation', message, {
    issues: [
      {
        path: 'assignee.organisation',
        message: 'not an organisation this task can be given to: choose a team by its id',
      },
    ],
  })
}

/** How many derived ids are searched for (`decide` draws at most two per command: a payload id and an event id). */
const LOOKAHEAD = COMMAND_IDS_DRAWN

/**
 * The ids of one caller's command with a `commandId`: the n-th id `decide` draws is
 * `commandEventId(commandId, caller, n)`, so a retry draws the same ones.
 */
class CommandIds {
  private drawn = 0
  private readonly first: string[]

  constructor(
    private readonly commandId: string,
    private readonly viewer: Viewer,
  ) {
    this.first = Array.from({ length: LOOKAHEAD }, (_, i) => commandEventId(commandId, viewer, i))
  }

  next(): string {
    const n = this.drawn++
    return this.first[n] ?? commandEventId(this.commandId, this.viewer, n)
  }

  /** The first ids, those a command's events and payload ids take. */
  get candidates(): readonly string[] {
    return this.first
  }

  derived(id: string): boolean {
    return this.first.includes(id)
  }
}

/** The seq the append's conflict names when its id is one of the command's derived ids. */
function conflictSeq(error: unknown, ids: CommandIds): number | undefined {
  if (!(error instanceof WatchfloorError) || error.code !== 'conflict') return undefined
  const details = error.details as { id?: unknown; seq?: unknown } | undefined
  return typeof details?.id === 'string' && ids.derived(details.id) && typeof details.seq === 'number'
    ? details.seq
    : undefined
}

/** The `commandId` already named another command of the caller's (or an event that is not its). */
function reused(): CommandAck<Target> {
  const message = 'this commandId was already used for another command: make a new one for a new action'
  return { ok: false, error: { code: 'validation', message, details: { issues: [{ path: 'commandId', message }] } } }
}

/**
 * Whether `event` is what `command` asks for: its type, and its payload the command's fields
 * (less the ids `decide` made; a comment's mentions with those of its body; a bookmark's marking; for
 * a marking change, the incident and the report's marking).
 * `expectedVersion` may differ between a command and its retry.
 */
function asksFor(command: Command, event: StoredEvent): boolean {
  if (event.type !== COMMAND_EVENTS[command.type]) return false
  const { type: _type, expectedVersion: _expected, commandId: _commandId, ...fields } = command
  const asked: Record<string, unknown> = { ...fields }
  const { ...payload } = event.payload as Record<string, unknown>
  switch (command.type) {
    case 'incident.set_marking':
      // the report restates the incident as it stood: the command asked only for its marking
      return (
        (payload as { incidentId?: unknown }).incidentId === command.incidentId &&
        canonicalJson(command.marking) === canonicalJson(event.marking)
      )
    case 'task.create':
      delete payload.taskId
      break
    case 'comment.post':
      delete payload.commentId
      asked.mentions = [...new Set([...(command.mentions ?? []), ...extractMentions(command.body)])]
      break
    case 'bookmark.save':
      delete payload.bookmarkId
      delete asked.marking
      if (canonicalJson(command.marking ?? { tlp: 'AMBER' }) !== canonicalJson(event.marking)) return false
      break
  }
  return canonicalJson(asked) === canonicalJson(payload)
}

/**
 * [C5, C17] The version of the command's target in the caller's picture now (a bookmark's is 1);
 * undefined when the caller may no longer see it (then it is decided, and refused, as new).
 */
function versionNow(state: State, viewer: Viewer, command: Command, event: StoredEvent): number | undefined {
  const incident = (incidentId: string) => {
    const found = state.incidents.get(incidentId)
    return found !== undefined && canSee(viewer, incidentVisibility(found)) ? found.version : undefined
  }
  const task = (taskId: string) => {
    const found = state.tasks.get(taskId)
    return found !== undefined && canSee(viewer, taskVisibility(found)) && incident(found.incidentId) !== undefined
      ? found.version
      : undefined
  }
  switch (command.type) {
    case 'bookmark.save':
      return 1
    case 'task.create':
      return incident(command.incidentId) === undefined ? undefined : task((event.payload as { taskId: string }).taskId)
    case 'comment.post':
      if (incident(command.incidentId) === undefined) return undefined
      return command.taskId === undefined ? incident(command.incidentId) : task(command.taskId)
    case 'task.assign':
    case 'task.accept':
    case 'task.start':
    case 'task.block':
    case 'task.complete':
    case 'task.reopen':
      return task(command.taskId)
    default:
      return incident(command.incidentId)
  }
}

function refusal(viewer: Viewer, rejection: Rejection): CommandAck<Target> {
  const { code, path } = rejection
  const error: ErrorBody = {
    code,
    message: rejection.message,
    details:
      path === undefined
        ? { rule: rejection.rule }
        : { rule: rejection.rule, issues: [{ path, message: rejection.message }] },
  }
  const current = rejection.current
  // [C1] a target the viewer may not see is not_found before any conflict; checked again all the same
  if (current !== undefined && mayShow(viewer, current)) return { ok: false, error, current }
  return { ok: false, error }
}

function mayShow(viewer: Viewer, target: Target): boolean {
  return 'taskId' in target ? canSee(viewer, taskVisibility(target)) : canSee(viewer, incidentVisibility(target))
}

/**
 * `POST /api/v1/commands`: 200 `{ events, version }`, else the error (and `current` on a conflict).
 * `directory`: the organisations a task's team may be.
 */
export function commandRouter(commands: CommandService, directory?: TeamDirectory): express.Router {
  const router = express.Router()
  router.post('/commands', express.json({ limit: '64kb', type: () => true }), async (req, res) => {
    const ack = await commands.handle(callerOf(req), req.body, directory)
    if (ack.ok) {
      res.json({ events: ack.events, version: ack.version })
      return
    }
    const { error, current } = ack
    res.status(httpStatus(error.code)).json(current === undefined ? { error } : { error, current })
  })
  return router
}

/**
 * The socket `command`: the same handler as REST, which checks the socket's credential again inside
 * the command lock (a revoked one is refused, `unauthenticated`) and reads an account's roles,
 * organisation and nation again, so a changed account counts at once.
 */
export function attachCommands(socket: WatchSocket, commands: CommandService, access: Access, logger: Logger): void {
  socket.on('command', (...args: unknown[]) => {
    const { body, reply } = messageArgs<CommandAck<Target>>(args)
    void (async () => {
      reply(await commands.handle(socket.data.caller, body, access.directory))
    })().catch((error: unknown) => {
      if (!(error instanceof WatchfloorError)) logger.error({ err: error }, 'socket command failed')
      reply({ ok: false, error: errorBody(error) })
    })
  })
}
