/**
 * The people directory (`GET /api/v1/people`): the people and teams the caller may assign tasks
 * to or mention, for the console's autocomplete. What it lists, and no more:
 *
 * - **people**: the persons (any role but `sensor`, enabled) of the caller's own organisation,
 *   from the credential store's accounts and the static tokens, when the caller may mention
 *   (`comment.post`) or assign (`task.assign`, core's policy C2). Another organisation's accounts
 *   are never listed: assigning or mentioning grants no visibility [C4], and no list of one
 *   organisation's accounts is given to another. (A console also offers the people its own picture
 *   already names: that it was sent. Presence, likewise, names whoever views an incident the
 *   caller's picture holds, of any organisation, by user id, as the events it may see name their
 *   actors; a display name of the caller's own organisation's people only, live/presence.ts.)
 * - **teams**: the organisations of the directory (which every signed-in caller reads anyway,
 *   `GET /api/v1/directory`) and the caller's own, only when it may assign (`task.assign`).
 *
 * A display token or a caller viewing as another audience is read-only [A1, A7]: it may assign
 * and mention nobody, so both lists are empty.
 */
import { isPerson, may } from '@watchfloor/core'
import type { Role } from '@watchfloor/protocol'
import express from 'express'
import { type Access, type Caller, callerOf } from './access.ts'

/** A person one may assign a task to or mention: `userId` is what a command names. */
export interface DirectoryPerson {
  userId: string
  displayName: string
  organisation: string
}

/** A team: an organisation, as `{ kind: 'team', organisation }` names it. */
export interface DirectoryTeam {
  organisation: string
  name: string
  /** Its nation, as the directory says (absent for the caller's own team when the directory lacks it). */
  nation?: string
  /**
   * The communities it shares with the caller, when any: with its nation, what the caller may know
   * of who it is, to offer only the teams a task's marking reaches [C19]. Never another community's.
   */
  communities?: string[]
}

export interface PeopleReply {
  people: DirectoryPerson[]
  teams: DirectoryTeam[]
  /** The caller's own communities (when it may assign): the releasability names it can place [C19]. */
  communities?: string[]
  /** What the caller may do with them: assign tasks (people and teams), mention people. */
  may: { assign: boolean; mention: boolean }
}

/** Someone who might be listed: an account or a static principal. */
export interface Candidate {
  userId: string
  displayName: string
  organisation: string
  roles: readonly Role[]
  disabled?: boolean
}

/** What the filter reads of the caller. */
export type PeopleCaller = Pick<Caller, 'user' | 'organisation' | 'roles' | 'kind'> & {
  viewingAs?: unknown
  communities?: readonly string[] | undefined
}

/**
 * The people and teams `caller` may assign to or mention, from every candidate person and every
 * organisation of the directory: see the module's comment. Sorted by name, each once (an account
 * wins over a static principal of the same user id).
 */
export function peopleFor(
  caller: PeopleCaller,
  candidates: readonly Candidate[],
  organisations: readonly { id: string; name: string; nation?: string }[],
  communitiesOf: (organisation: string) => readonly string[] = () => [],
): PeopleReply {
  const actor = {
    ...caller,
    userId: caller.user,
    readOnly: caller.kind === 'display' || caller.viewingAs !== undefined,
  }
  const assign = may(actor, 'task.assign')
  const mention = may(actor, 'comment.post')
  const people = new Map<string, DirectoryPerson>()
  if (assign || mention)
    for (const c of candidates) {
      if (c.organisation !== caller.organisation || c.disabled || !isPerson(c) || people.has(c.userId)) continue
      people.set(c.userId, { userId: c.userId, displayName: c.displayName, organisation: c.organisation })
    }
  const teams = new Map<string, DirectoryTeam>()
  if (assign) {
    const mine = caller.communities ?? []
    for (const o of organisations) {
      const shared = communitiesOf(o.id).filter((c) => mine.includes(c))
      teams.set(o.id, {
        organisation: o.id,
        name: o.name,
        ...(o.nation === undefined ? {} : { nation: o.nation }),
        ...(shared.length === 0 ? {} : { communities: shared }),
      })
    }
    if (!teams.has(caller.organisation))
      teams.set(caller.organisation, { organisation: caller.organisation, name: caller.organisation })
  }
  const byName =
    <T>(name: (t: T) => string) =>
    (a: T, b: T) =>
      name(a).localeCompare(name(b))
  return {
    people: [...people.values()].sort(byName((p) => `${p.displayName}\u0000${p.userId}`)),
    teams: [...teams.values()].sort(byName((t) => `${t.name}\u0000${t.organisation}`)),
    ...(assign ? { communities: [...(caller.communities ?? [])] } : {}),
    may: { assign, mention },
  }
}

/** `GET /api/v1/people`; mounted after authentication. */
export function peopleDirectoryRoutes(access: Access): express.Router {
  const router = express.Router()
  router.get('/people', async (req, res) => {
    const caller = callerOf(req)
    res.setHeader('Cache-Control', 'no-store')
    const empty = peopleFor(caller, [], [])
    if (!empty.may.assign && !empty.may.mention) {
      res.json(empty)
      return
    }
    await access.directory.load()
    const accounts = await access.credentials.listAccounts()
    const candidates: Candidate[] = [
      ...accounts.map((a) => ({
        userId: a.username,
        displayName: a.displayName,
        organisation: a.organisation,
        roles: a.roles,
        disabled: a.disabled,
      })),
      ...access.registry.principals().map((p) => ({
        userId: p.user,
        displayName: p.user,
        organisation: p.organisation,
        roles: p.roles,
      })),
    ]
    res.json(
      peopleFor(caller, candidates, access.directory.listOrganisations(), (organisation) =>
        access.directory.communitiesOf(organisation),
      ),
    )
  })
  return router
}
