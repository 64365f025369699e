/**
 * People and incidents by name: the directory of whom one may assign to or mention
 * (`GET /api/v1/people`, docs/api.md), what the console's own picture already names, and the
 * matching behind the assignee and `@` mention comboboxes and the incident picker. Pure but for
 * `peopleDirectory`, the store that reads the route once per session.
 */
import {
  type IncidentState,
  networkName,
  type State,
  type SummaryNames,
  teamMaySee,
  type Visible,
} from '@watchfloor/core'
import { useStore } from 'zustand'
import { createStore } from 'zustand/vanilla'
import { ApiError, requestJson } from '../../data/api.ts'

/** `GET /api/v1/people`. */
export interface PeopleReply {
  people: { userId: string; displayName: string; organisation: string }[]
  /** A team's nation, and the communities it shares with the caller, when the directory says [C19]. */
  teams: { organisation: string; name: string; nation?: string; communities?: string[] }[]
  /** The caller's own communities (when it may assign). */
  communities?: string[]
  may: { assign: boolean; mention: boolean }
}

/** One choice of a combobox: what a command names (`id`), what a person reads (`label`). */
export interface Option {
  id: string
  label: string
  /** A second, quieter line: the user id and organisation, an incident's severity and status. */
  detail?: string
}

/** Names by id: people (user id to display name) and teams (organisation to its name). */
export interface Names {
  people: ReadonlyMap<string, string>
  teams: ReadonlyMap<string, string>
}

export const NO_NAMES: Names = { people: new Map(), teams: new Map() }

/** The names the directory gives. */
export function namesOf(reply: PeopleReply | null): Names {
  if (!reply) return NO_NAMES
  return {
    people: new Map(reply.people.map((p) => [p.userId, p.displayName])),
    teams: new Map(reply.teams.map((t) => [t.organisation, t.name])),
  }
}

/**
 * The people one may choose: the directory's (with their names), then the user ids the picture
 * already names (`known`: it was sent them), each once.
 */
export function personOptions(reply: PeopleReply | null, known: readonly string[]): Option[] {
  const options = new Map<string, Option>()
  for (const p of reply?.people ?? [])
    options.set(p.userId, { id: p.userId, label: p.displayName, detail: `@${p.userId} · ${p.organisation}` })
  for (const id of known) if (!options.has(id)) options.set(id, { id, label: id, detail: `@${id}` })
  return [...options.values()]
}

/** The teams one may choose: the directory's, then the organisations the picture names. */
export function teamOptions(reply: PeopleReply | null, known: readonly string[]): Option[] {
  const options = new Map<string, Option>()
  for (const t of reply?.teams ?? [])
    options.set(t.organisation, {
      id: t.organisation,
      label: t.name,
      ...(t.name === t.organisation ? {} : { detail: t.organisation }),
    })
  for (const id of known) if (!options.has(id)) options.set(id, { id, label: id })
  return [...options.values()]
}

/**
 * The team options a task's events (`visible`: core's `commandVisibility`) reach [C19], as the
 * server judges them: a team of the directory (its nation known) that may not see them is left
 * out; the caller's own team, and one known only from the picture, are kept (the server does not
 * judge them either).
 */
export function teamsReaching(
  options: readonly Option[],
  reply: PeopleReply | null,
  visible: Visible,
  own: string | undefined,
): Option[] {
  if (reply === null) return [...options]
  const teams = new Map(reply.teams.map((t) => [t.organisation, t]))
  const placed = (name: string) =>
    teams.has(name) || reply.teams.some((t) => t.nation === name) || (reply.communities?.includes(name) ?? false)
  return options.filter((option) => {
    const team = teams.get(option.id)
    if (option.id === own || team?.nation === undefined) return true
    return teamMaySee(
      { organisation: team.organisation, nation: team.nation, communities: team.communities ?? [] },
      visible,
      placed,
    )
  })
}

/** Folded for matching: lower case, without accents. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
}

/**
 * The options that match what was typed, best first, at most `limit`: an id or a name that starts
 * with it, then one with a word that starts with it, then one that holds it anywhere. Nothing
 * typed: the first `limit` as they are.
 */
export function matchOptions(options: readonly Option[], query: string, limit = 8): Option[] {
  const q = fold(query.trim().replace(/^@/, ''))
  if (!q) return options.slice(0, limit)
  const ranked: [number, number, Option][] = []
  options.forEach((option, index) => {
    const rank = Math.min(rankOf(fold(option.label), q), rankOf(fold(option.id), q))
    if (rank < 3) ranked.push([rank, index, option])
  })
  ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  return ranked.slice(0, limit).map(([, , option]) => option)
}

function rankOf(text: string, q: string): number {
  if (text.startsWith(q)) return 0
  if (text.split(/[^\p{L}\p{N}]+/u).some((word) => word.startsWith(q))) return 1
  return text.includes(q) ? 2 : 3
}

/** Incidents one may link to: the picture's, but this one and those merged away; by title. */
export function incidentOptions(incidents: Iterable<IncidentState>, exceptId: string): Option[] {
  const options: Option[] = []
  for (const i of incidents) {
    if (i.incidentId === exceptId || i.mergedInto !== undefined) continue
    options.push({ id: i.incidentId, label: i.title, detail: `${i.severity} · ${i.status} · ${i.organisation}` })
  }
  return options
}

/**
 * The incident a form is about: the one picked from the list, else the one whose id was typed, else
 * the one whose title was typed exactly, else the only one that matches what was typed (as the list
 * matches it). Several: what to say instead of guessing. None: an id typed whole (no spaces) is
 * sent as it is, for the server to judge (an incident the live picture leaves out, closed long ago,
 * is still one to link to); other text is said, not sent.
 */
export function chosenOption(
  options: readonly Option[],
  typed: string,
  picked: string,
): { id: string } | { problem: string } {
  if (picked) return { id: picked }
  const text = typed.trim()
  const byId = options.find((o) => o.id === text)
  if (byId) return { id: byId.id }
  const titled = options.filter((o) => o.label === text)
  const matching = titled.length > 0 ? titled : matchOptions(options, text, 2)
  if (matching.length === 1) return { id: matching[0]!.id }
  if (matching.length > 1) return { problem: `Several incidents match "${text}": choose one from the list.` }
  if (text !== '' && !/\s/.test(text)) return { id: text }
  return { problem: `No incident you can see matches "${text}".` }
}

/** The `@` being typed at the caret: where it starts and what follows it, or null. */
export interface MentionQuery {
  /** Index of the `@`. */
  start: number
  query: string
}

/**
 * The mention being typed just before `caret`, by core's rule C15 (`extractMentions`): an `@` at
 * the start or after a character that cannot be part of an address, then letters, digits, `_`,
 * `.` or `-`. `kadri@cert.ee` is no mention.
 */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret)
  const match = /(?<![\p{L}\p{N}_.@-])@([\p{L}\p{N}_.-]*)$/u.exec(before)
  if (!match) return null
  return { start: match.index, query: match[1]! }
}

/** The text with the mention at `at` replaced by `@userId ` and where the caret goes. */
export function insertMention(
  text: string,
  at: MentionQuery,
  userId: string,
  caret: number,
): { text: string; caret: number } {
  const inserted = `@${userId} `
  const after = text.slice(caret).replace(/^[\p{L}\p{N}_.-]*\s?/u, '')
  return { text: text.slice(0, at.start) + inserted + after, caret: at.start + inserted.length }
}

/** A person's name for display, or the user id when no name is known. */
export function personName(names: Names, userId: string): string {
  return names.people.get(userId) ?? userId
}

/** A team's name for display, or its organisation id. */
export function teamName(names: Names, organisation: string): string {
  return names.teams.get(organisation) ?? organisation
}

/**
 * Names for core's `summarise(event, names)`: incidents and tasks by the titles the picture holds,
 * networks by their names there, people by the directory's names; what neither knows stays an id.
 */
export function summaryNames(state: Pick<State, 'incidents' | 'tasks' | 'networks'>, names: Names): SummaryNames {
  return {
    incident: (id) => state.incidents.get(id)?.title,
    task: (id) => state.tasks.get(id)?.title,
    network: (id) => {
      const network = state.networks.get(id)
      return network === undefined ? undefined : networkName(network)
    },
    person: (id) => names.people.get(id),
  }
}

// ---------------------------------------------------------------- the directory, read once a session

export interface PeopleDirectoryState {
  /** The session (user and audience) it was read for. */
  key: string | null
  reply: PeopleReply | null
  /** Read the directory for this session unless it was already. */
  load(key: string): void
  clear(): void
}

/** The first wait before the directory is read again after the server failed or was not reached; doubled up to `PEOPLE_RETRY_MAX_MS`. */
export const PEOPLE_RETRY_MS = 2_000
export const PEOPLE_RETRY_MAX_MS = 60_000

/** Each `load` and `clear`: a retry of an earlier load (signed out and in again meanwhile) stops. */
let loads = 0

export const peopleDirectory = createStore<PeopleDirectoryState>()((set, get) => ({
  key: null,
  reply: null,
  load(key) {
    if (get().key === key) return
    set({ key, reply: null })
    const mine = ++loads
    const current = () => loads === mine && get().key === key
    const attempt = (wait: number) =>
      requestJson<PeopleReply>('/api/v1/people').then(
        (reply) => {
          if (current()) set({ reply })
        },
        (error: unknown) => {
          // no directory (an older server, a refusal): the picture's names remain; the server not
          // reached or failing (a restart, a blip): read again, later and later, while the session lasts
          const status = error instanceof ApiError ? error.failure.status : undefined
          const passing = status === 0 || status === 429 || (status !== undefined && status >= 500)
          if (!passing || !current()) return
          setTimeout(() => {
            if (current()) void attempt(Math.min(wait * 2, PEOPLE_RETRY_MAX_MS))
          }, wait)
        },
      )
    void attempt(PEOPLE_RETRY_MS)
  },
  clear() {
    loads++
    set({ key: null, reply: null })
  },
}))

export function usePeopleDirectory<T>(selector: (state: PeopleDirectoryState) => T): T {
  return useStore(peopleDirectory, selector)
}
