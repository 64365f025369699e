import {
  type Marking,
  type Pap,
  type Source,
  TLP_LEVELS,
  type Tlp,
  type Viewer,
  type ViewingAs,
} from '@watchfloor/protocol'
import type { IncidentState, TaskState } from './state.ts'

/** The parts of an event that decide who may see it. */
export interface Visible {
  source: Source
  /** Who wrote it: the server sets both (A6); the organisation may be absent (a part kept without it). */
  actor?: { user: string; organisation?: string | undefined } | undefined
  marking: Marking
}

/** TLP levels in order of restriction: CLEAR < GREEN < AMBER < AMBER+STRICT < RED. */
export function tlpRank(tlp: Tlp): number {
  return TLP_LEVELS.indexOf(tlp)
}

/** The most restrictive of the given TLPs (CLEAR when there are none). */
export function highestTlp(tlps: Iterable<Tlp>): Tlp {
  let highest: Tlp = 'CLEAR'
  for (const tlp of tlps) if (tlpRank(tlp) > tlpRank(highest)) highest = tlp
  return highest
}

/**
 * May this viewer see this event? Rules V1-V10 in packages/core/SPEC.md.
 * For every TLP but RED the answer depends only on the viewer's organisation,
 * nation, communities and TLP ceiling [V7], which lets the server fan out once per audience.
 */
export function canSee(viewer: Viewer | null | undefined, event: Visible): boolean {
  if (!viewer) return false // [V1]
  // [V11] viewing as an audience: only what that audience may see as well
  if (viewer.viewingAs !== undefined && !canSee(audienceViewer(viewer.viewingAs), event)) return false
  const { marking } = event
  // [V9] a ceiling caps everything, even the viewer's own organisation's events and RED addressed to it.
  if (viewer.tlpCeiling !== undefined && tlpRank(marking.tlp) > tlpRank(viewer.tlpCeiling)) return false
  if (marking.tlp === 'RED') {
    // [V5] RED: only the listed recipients and the author; a viewer with no user (an audience,
    // whose picture its users share) is neither, whatever ids an event carries.
    if (viewer.userId === '') return false
    if (isAuthor(viewer, event.actor)) return true
    return marking.recipients?.includes(viewer.userId) ?? false
  }
  const own = event.source.organisation === viewer.organisation
  if (own) return true // [V2] the originating organisation always sees its own non-RED events
  const releasable = marking.releasableTo
  const named = releasable !== undefined && isNamed(viewer, releasable)
  // [V6] releasableTo, when present, always narrows.
  if (releasable !== undefined && !named) return false
  switch (marking.tlp) {
    case 'CLEAR':
    case 'GREEN':
      return true // [V3]
    case 'AMBER':
      return named // [V4] AMBER: the source organisation or those named in releasableTo
    case 'AMBER+STRICT':
      return false // [V4s] AMBER+STRICT: only the originating organisation
  }
}

/**
 * [V5] Is the viewer the author: its user id and, when the actor names one, its organisation (the
 * server sets both, A6). A user id names one person of one organisation (the server refuses to give
 * one to a second organisation); comparing the organisation too keeps an author's RED from a
 * namesake in another organisation should two ever share one (made before the server refused it).
 */
function isAuthor(viewer: Viewer, actor: Visible['actor']): boolean {
  if (actor === undefined || actor.user !== viewer.userId) return false
  return actor.organisation === undefined || actor.organisation === viewer.organisation
}

/** [V6, V10] Does `releasableTo` name the viewer's organisation, its nation or one of its communities? */
/** Whether `releasable` (a marking's `releasableTo`) names the viewer: its organisation, nation or a community of it. */
export function isNamed(viewer: Viewer, releasable: readonly string[]): boolean {
  if (releasable.includes(viewer.organisation) || releasable.includes(viewer.nation)) return true
  return viewer.communities?.some((community) => releasable.includes(community)) ?? false
}

/**
 * [V11] An audience as a viewer: an organisation as a whole (no user: never a RED recipient nor an
 * author), or a community as such (no organisation, no nation: only what is shared with everyone
 * or named to the community). Empty ids never match: every id in an event has a character.
 */
function audienceViewer(audience: ViewingAs): Viewer {
  const organisation = audience.kind === 'organisation' ? audience.id : ''
  const communities = audience.kind === 'community' ? [audience.id] : [...(audience.communities ?? [])]
  return { organisation, nation: audience.nation ?? '', roles: [], userId: '', communities }
}

const PAP_ORDER = ['CLEAR', 'GREEN', 'AMBER', 'RED'] as const

/**
 * Who besides the source organisation a marking names, as `releasableTo` reads: for CLEAR and
 * GREEN none given means everyone (undefined); for AMBER none given means no one but the source
 * [V4], and AMBER+STRICT names no one whatever it lists [V4s] (both an empty list).
 */
function namedAudience(marking: Marking): readonly string[] | undefined {
  if (marking.tlp === 'AMBER+STRICT') return []
  if (marking.tlp === 'AMBER') return marking.releasableTo ?? []
  return marking.releasableTo
}

/**
 * The marking of something made of two marked things (an incident's report and a later, stricter
 * update): whoever may see the result may see both. The higher TLP and PAP, the releasability both
 * allow (the common names when both narrow), and for RED the recipients both name.
 */
export function strictestMarking(a: Marking, b: Marking): Marking {
  const tlp = tlpRank(a.tlp) >= tlpRank(b.tlp) ? a.tlp : b.tlp
  const marking: Marking = { tlp }
  const ra = namedAudience(a)
  const rb = namedAudience(b)
  const releasable = ra !== undefined && rb !== undefined ? ra.filter((name) => rb.includes(name)) : (ra ?? rb)
  // AMBER naming no one is AMBER alone: the source organisation only [V4]
  const unnamed = releasable?.length === 0 && (tlp === 'AMBER' || tlp === 'AMBER+STRICT')
  if (releasable !== undefined && !unnamed) marking.releasableTo = [...releasable]
  if (tlp === 'RED') {
    const lists = [a, b].filter((m) => m.tlp === 'RED').map((m) => m.recipients ?? [])
    // RED reaches its recipients whatever else the marking says [V5]: when the other part is not for
    // everyone (AMBER, AMBER+STRICT, or narrowed by releasableTo), no recipient can be assumed to be
    // among its readers, so the result keeps none
    const narrowed = [a, b].some(
      (m) => m.tlp !== 'RED' && (m.tlp === 'AMBER' || m.tlp === 'AMBER+STRICT' || m.releasableTo !== undefined),
    )
    marking.recipients = narrowed
      ? []
      : lists.length === 2
        ? lists[0]!.filter((user) => lists[1]!.includes(user))
        : [...lists[0]!]
  }
  const paps = [a.pap, b.pap].filter((pap) => pap !== undefined)
  if (paps.length > 0) marking.pap = paps.reduce((x, y) => (PAP_ORDER.indexOf(x) >= PAP_ORDER.indexOf(y) ? x : y))
  return marking
}

/**
 * `strictestMarking(current, next)` for a fold that meets one marking per event (the reducer's
 * content markings, observations included): `current` itself when `next` is the same plain
 * marking (a TLP other than RED and a PAP, no lists), as most events of a thing carry, so
 * nothing is built for them.
 */
export function foldMarking(current: Marking, next: Marking): Marking {
  const plain = (m: Marking) => m.tlp !== 'RED' && m.releasableTo === undefined && m.recipients === undefined
  if (next.tlp === current.tlp && next.pap === current.pap && plain(next) && plain(current)) return current
  return strictestMarking(current, next)
}

/**
 * [C4] What a command's events about an incident (and a task of it) carry: the incident's source,
 * and its audience's marking, or the strictest of that and the task's when they differ. Whoever may
 * see such an event may see the incident and the task.
 */
export function commandVisibility(incident: IncidentState, task?: Pick<TaskState, 'marking'>): Visible {
  const audience = audienceMarking(incident)
  return {
    source: { organisation: incident.organisation },
    marking:
      task === undefined || markingKey(audience) === markingKey(task.marking)
        ? audience
        : strictestMarking(audience, task.marking),
  }
}

/**
 * [R14] Does `marking` reach no one `floor` does not? RED: RED, for the recipients the floor names
 * or the caller (the author of the report, V5), at least its PAP; otherwise at least as strict.
 */
export function reachesNoFurther(marking: Marking, floor: Marking, caller: string): boolean {
  if (floor.tlp !== 'RED') return sameMarking(strictestMarking(marking, floor), marking)
  if (marking.tlp !== 'RED') return false
  const pap = strictestMarking({ tlp: 'RED', pap: marking.pap }, { tlp: 'RED', pap: floor.pap }).pap
  return (
    pap === marking.pap &&
    (marking.recipients ?? []).every((user) => user === caller || floor.recipients?.includes(user))
  )
}

/** An organisation's audience as someone else may know it: its nation, and the communities it shares with them. */
export interface TeamAudience {
  organisation: string
  nation: string
  /** Only the communities the judge shares with it: another community's members are not the judge's to know [A8]. */
  communities: readonly string[]
}

/**
 * [C19] May a team (an organisation's audience: no user, so never RED) see what `visible` marks,
 * judged on what the judge knows of it? `placed` says whether the judge can place a releasability
 * name (an organisation of the directory, a nation of one, a community of its own); a marking
 * naming one it cannot place is not judged (true): whether the team is in a community the judge is
 * not is not the judge's to learn.
 */
export function teamMaySee(team: TeamAudience, visible: Visible, placed: (name: string) => boolean): boolean {
  const audience: Viewer = {
    organisation: team.organisation,
    nation: team.nation,
    communities: team.communities,
    roles: [],
    userId: '',
  }
  if (canSee(audience, visible)) return true
  return visible.marking.releasableTo?.some((name) => !placed(name)) ?? false
}

/** A marking as one comparable string: its TLP, lists (sorted) and PAP, as given. */
export function markingKey(marking: Marking): string {
  const sorted = (list: readonly string[] | undefined) => (list === undefined ? null : [...list].sort())
  return JSON.stringify([marking.tlp, sorted(marking.releasableTo), sorted(marking.recipients), marking.pap ?? null])
}

/**
 * Do two markings say the same? Compared as `strictestMarking` writes them: AMBER naming no one is
 * AMBER alone, AMBER+STRICT's list says nothing, RED naming no one has an empty list.
 */
export function sameMarking(a: Marking, b: Marking): boolean {
  return markingKey(strictestMarking(a, a)) === markingKey(strictestMarking(b, b))
}

/** The marking a document (report, brief, export) carries: the highest TLP and PAP of what it holds. */
export interface DocumentMarking {
  tlp: Tlp
  pap?: Pap
}

/**
 * [M1] The marking of a document made of marked things: the strictest of their markings
 * (`strictestMarking`), TLP and PAP; CLEAR with no PAP when it holds nothing.
 */
export function documentMarking(markings: Iterable<Marking>): DocumentMarking {
  let strictest: Marking = { tlp: 'CLEAR' }
  for (const marking of markings) strictest = strictestMarking(strictest, marking)
  return strictest.pap === undefined ? { tlp: strictest.tlp } : { tlp: strictest.tlp, pap: strictest.pap }
}

/** [M2] A document marking as its banner reads, top and bottom: `TLP:AMBER · PAP:GREEN`; RED says so. */
export function markingBanner(marking: DocumentMarking): string {
  const parts = [`TLP:${marking.tlp}`]
  if (marking.pap !== undefined) parts.push(`PAP:${marking.pap}`)
  const text = parts.join(' · ')
  return marking.tlp === 'RED' ? `${text}: named recipients only, do not share` : text
}

/** A marking as words: `TLP:AMBER releasable to cert-lv, LV · PAP:GREEN`. */
export function describeMarking(marking: Marking): string {
  const parts = [`TLP:${marking.tlp}`]
  if (marking.releasableTo !== undefined) parts.push(`releasable to ${marking.releasableTo.join(', ') || 'no one'}`)
  if (marking.recipients !== undefined) parts.push(`for ${marking.recipients.join(', ')}`)
  if (marking.pap !== undefined) parts.push(`· PAP:${marking.pap}`)
  return parts.join(' ')
}

/** [V8] The marking applied when a sender gives none: AMBER, to its own organisation only. */
export function defaultMarking(): Marking {
  return { tlp: 'AMBER' }
}

/** A viewer's communities as keys read them: sorted, each once. */
function communitiesKey(viewer: Pick<Viewer, 'communities'>): string[] {
  return [...new Set(viewer.communities ?? [])].sort()
}

/**
 * The audience key of a viewer for non-RED events: viewers with equal keys see
 * exactly the same non-RED events [V7]. It includes the communities [V10] and the TLP ceiling
 * [V9]. Built as a JSON array, so no organisation, nation or community name can make two
 * audiences collide.
 */
export function audienceKey(
  viewer: Pick<Viewer, 'organisation' | 'nation' | 'tlpCeiling' | 'communities' | 'viewingAs'>,
): string {
  return JSON.stringify([
    viewer.organisation,
    viewer.nation,
    viewer.tlpCeiling ?? null,
    communitiesKey(viewer),
    viewingAsKey(viewer),
  ])
}

/** [V11] The audience viewed as, as keys read it (null: none). */
function viewingAsKey(viewer: Pick<Viewer, 'viewingAs'>): unknown[] | null {
  const as = viewer.viewingAs
  if (as === undefined) return null
  return [as.kind, as.id, as.nation ?? null, [...new Set(as.communities ?? [])].sort()]
}

/**
 * The key of everything `canSee` reads of a viewer (organisation, nation, communities, user, TLP
 * ceiling): viewers with equal keys see exactly the same events, RED included [V5, V7, V9, V10].
 * Every per-viewer cache, index and room is keyed by it. Roles are not part of it: no visibility
 * rule reads them.
 */
export function viewerKey(
  viewer: Pick<Viewer, 'organisation' | 'nation' | 'userId' | 'tlpCeiling' | 'communities' | 'viewingAs'>,
): string {
  return JSON.stringify([
    viewer.organisation,
    viewer.nation,
    viewer.userId,
    viewer.tlpCeiling ?? null,
    communitiesKey(viewer),
    viewingAsKey(viewer),
  ])
}

/** The parts of an incident that decide who may see it: those of its report. */
export function incidentVisibility(incident: IncidentState): Visible {
  return {
    source: { organisation: incident.organisation },
    actor: incident.reportedBy === undefined ? undefined : { user: incident.reportedBy },
    marking: incident.marking,
  }
}

/** The parts of a task that decide who may see it: those of its `task.created`. */
export function taskVisibility(task: TaskState): Visible {
  return {
    source: { organisation: task.organisation },
    actor: task.createdBy === undefined ? undefined : { user: task.createdBy },
    marking: task.marking,
  }
}

/**
 * [C4] The marking of the events a command produces: the incident's own, so
 * that exactly the incident's audience sees them. For RED the incident's author
 * joins the recipients: a RED event reaches its recipients and its author (the
 * acting viewer, who could see the incident, so is already its author or a
 * recipient), and the incident's author must keep seeing its incident's events.
 */
export function audienceMarking(incident: IncidentState): Marking {
  const { tlp, releasableTo, recipients, pap } = incident.marking
  const marking: Marking = { tlp }
  if (releasableTo !== undefined) marking.releasableTo = [...releasableTo]
  if (pap !== undefined) marking.pap = pap
  if (tlp === 'RED') {
    const everyone = [...(recipients ?? [])]
    if (incident.reportedBy !== undefined && !everyone.includes(incident.reportedBy)) {
      everyone.push(incident.reportedBy)
    }
    marking.recipients = everyone
  } else if (recipients !== undefined) {
    marking.recipients = [...recipients]
  }
  return marking
}
