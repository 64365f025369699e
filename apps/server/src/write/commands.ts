import { randomUUID } from 'node:crypto'
import { canSee, decide, incidentVisibility, type Rejection, type Target, taskVisibility } from '@watchfloor/core'
import { type CommandAck, type ErrorBody, parseCommand, type Viewer, WatchfloorError } from '@watchfloor/protocol'
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
 * Race safety: the fold-decide-append of a command runs under a mutex in this
 * process and, on a store shared by several processes (PostgreSQL), under the
 * store's `exclusive('commands')` lock (an advisory lock), taken before the fold
 * and released after the append has committed. So two commands, on any
 * processes, never decide on the same version: the second folds the first's
 * events (they reach everyone who may see the target [C4]) and gets `conflict` [C3]. Events posted raw through `POST /api/v1/events`
 * are not serialised with commands.
 */
export class CommandService {
  private readonly mutex = new Mutex()

  constructor(
    private readonly store: EventStore,
    /** Each caller's own picture: what a command is decided on. */
    private readonly states: StateCache,
    private readonly logger: Logger,
    /** Counts each command by type and outcome (`watchfloor_commands_total`, ops/metrics.ts). */
    private readonly metrics?: { command(body: unknown, outcome: string): void },
  ) {}

  /** Handle one command body for a caller; refusals come back as `{ ok: false, error, current? }`. */
  async handle(caller: Caller, body: unknown): Promise<CommandAck<Target>> {
    try {
      const ack = await this.decided(caller, body)
      this.metrics?.command(body, ack.ok ? 'accepted' : ack.error.code)
      return ack
    } catch (error) {
      this.metrics?.command(body, 'internal')
      throw error
    }
  }

  private async decided(caller: Caller, body: unknown): Promise<CommandAck<Target>> {
    try {
      const readOnly = readOnlyReason(caller) // [A1, A7]
      if (readOnly) throw readOnly
      const command = parseCommand(body)
      const viewer = viewerOf(caller)
      return await this.mutex.run(() => this.locked((held) => this.decideAndAppend(viewer, command, held)))
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
    command: ReturnType<typeof parseCommand>,
    held: () => boolean,
  ): Promise<CommandAck<Target>> {
    // [C17] decided on the caller's own picture, so a refusal says only what the caller may see
    const state = await this.states.fresh(viewer)
    const decision = decide(state, command, { viewer, now: new Date().toISOString(), newId: randomUUID })
    if (!decision.ok) return refusal(viewer, decision.rejection)
    // the lock lost with its connection: another process may be deciding on the same version now
    if (!held()) throw new WatchfloorError('unavailable', 'the database connection was lost; send the command again')
    const results = await this.store.append(decision.events)
    const seqs = new Set(results.map((r) => r.seq))
    const first = Math.min(...seqs)
    const stored = (await this.store.readAfter(first - 1, Math.max(...seqs) - first + 1)).filter((e) => seqs.has(e.seq))
    this.logger.debug({ type: command.type, user: viewer.userId, seqs: [...seqs] }, 'command accepted')
    return { ok: true, events: stored, version: decision.version }
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

/** `POST /api/v1/commands`: 200 `{ events, version }`, else the error (and `current` on a conflict). */
export function commandRouter(commands: CommandService): express.Router {
  const router = express.Router()
  router.post('/commands', express.json({ limit: '64kb', type: () => true }), async (req, res) => {
    const ack = await commands.handle(callerOf(req), req.body)
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
 * The socket `command`: the same handler as REST. The socket's credential is
 * checked again first (a revoked one is refused), and an account's roles,
 * organisation and nation are read again, so a changed account counts at once.
 */
export function attachCommands(socket: WatchSocket, commands: CommandService, access: Access, logger: Logger): void {
  socket.on('command', (...args: unknown[]) => {
    const { body, reply } = messageArgs<CommandAck<Target>>(args)
    void (async () => {
      const caller = await currentCaller(access, socket.data.caller)
      reply(await commands.handle(caller, body))
    })().catch((error: unknown) => {
      if (!(error instanceof WatchfloorError)) logger.error({ err: error }, 'socket command failed')
      reply({ ok: false, error: errorBody(error) })
    })
  })
}

/** The socket's caller as it is now: refused when its credential no longer holds. */
async function currentCaller(access: Access, caller: Caller): Promise<Caller> {
  const revoked = await access.recheck(caller)
  if (revoked) throw new WatchfloorError('unauthenticated', revoked.replace('_', ' '))
  if (caller.account === null) return caller
  const account = await access.credentials.getAccount(caller.account)
  if (!account || account.disabled) throw new WatchfloorError('unauthenticated', 'account disabled')
  // the directory decides the organisation's nation and communities, as for every other request [V10]
  return access.inDirectory({
    ...caller,
    displayName: account.displayName,
    organisation: account.organisation,
    nation: account.nation,
    roles: account.roles,
  })
}
