/**
 * The marking form's pure part: the marking a form sends, and who a change takes the incident
 * away from (the confirmation before narrowing). Who may change it is core's policy (C20).
 */
import { describeMarking, reachesNoFurther, sameMarking, strictestMarking, tlpRank } from '@watchfloor/core'
import type { Marking, Pap, Tlp } from '@watchfloor/protocol'

/** What the form holds. */
export interface MarkingDraft {
  tlp: Tlp
  pap: Pap | ''
  releasableTo: string[]
  recipients: string[]
}

export function draftOf(marking: Marking): MarkingDraft {
  return {
    tlp: marking.tlp,
    pap: marking.pap ?? '',
    releasableTo: [...(marking.releasableTo ?? [])],
    recipients: [...(marking.recipients ?? [])],
  }
}

/** The marking the form sends: recipients only for RED, an empty releasability left out. */
export function markingOf(draft: MarkingDraft): Marking {
  const marking: Marking = { tlp: draft.tlp }
  if (draft.releasableTo.length > 0) marking.releasableTo = [...draft.releasableTo]
  if (draft.tlp === 'RED') marking.recipients = [...draft.recipients]
  if (draft.pap !== '') marking.pap = draft.pap
  return marking
}

/** Names typed as a comma (or space) separated list, each once, in order. */
export function namesIn(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((name) => name !== ''))]
}

/** Who a marking reaches beyond its own organisation: everyone, or the names it gives. */
function reach(marking: Marking): { everyone: true } | { everyone: false; names: readonly string[] } {
  switch (marking.tlp) {
    case 'CLEAR':
    case 'GREEN':
      return marking.releasableTo === undefined ? { everyone: true } : { everyone: false, names: marking.releasableTo }
    case 'AMBER':
      return { everyone: false, names: marking.releasableTo ?? [] }
    case 'AMBER+STRICT':
      return { everyone: false, names: [] }
    case 'RED':
      return { everyone: false, names: marking.recipients ?? [] }
  }
}

/**
 * Who will no longer see the incident once `after` replaces `before`, in words, one line each;
 * empty when the change takes it from no one (it widens, or says the same in other words).
 */
export function noLongerSeenBy(
  before: Marking,
  after: Marking,
  organisation: string,
  /** Who reported it last (its author for RED [V5]) and who changes the marking (its author after). */
  people: { reportedBy?: string | undefined; caller?: string | undefined } = {},
): string[] {
  const lost: string[] = []
  const { reportedBy, caller } = people
  // RED stays readable by its author: the caller becomes it, the one before keeps it only if named
  if (
    before.tlp === 'RED' &&
    after.tlp === 'RED' &&
    reportedBy !== undefined &&
    reportedBy !== caller &&
    !(after.recipients ?? []).includes(reportedBy)
  )
    lost.push(`${reportedBy}, who reported it`)
  const was = reach(before)
  const will = reach(after)
  const wasRed = before.tlp === 'RED'
  const willRed = after.tlp === 'RED'
  if (willRed && !wasRed) lost.push(`everyone in ${organisation} but you and the recipients`)
  if (was.everyone && !will.everyone)
    lost.push(
      will.names.length === 0 ? 'every other organisation' : `every organisation not named (${namesOf(will.names)})`,
    )
  if (!was.everyone && !will.everyone) {
    if (wasRed && !willRed) {
      // recipients are people: one of the organisations it now reaches keeps seeing it
      const reached = [organisation, ...will.names].join(', ')
      if (was.names.length > 0) lost.push(`recipients ${namesOf(was.names)}, unless of ${reached}`)
    } else {
      const kept = new Set(will.names)
      const gone = was.names.filter((name) => !kept.has(name))
      if (gone.length > 0) lost.push(wasRed ? `recipients ${namesOf(gone)}` : `${namesOf(gone)}, named until now`)
    }
  }
  if (tlpRank(after.tlp) > tlpRank(before.tlp)) lost.push(`display walls limited below TLP:${after.tlp}`)
  return lost
}

function namesOf(names: readonly string[]): string {
  return names.join(', ')
}

/**
 * Does `after` reach anyone `before` did not (a lower TLP or PAP, a name more, a list fewer)? Those
 * it newly reaches receive the incident as it stands: the form asks first, as for narrowing.
 */
export function widens(before: Marking, after: Marking): boolean {
  return !sameMarking(strictestMarking(before, after), after)
}

/** Why the form's marking may not be sent: said before asking the server, which would refuse it. */
export interface MarkingBlocked {
  /** `unchanged`: the incident is already marked so (C20); `stated`: it would restate wider what was marked stricter (R14). */
  reason: 'unchanged' | 'stated'
  text: string
}

/**
 * Why `after` may not be sent for an incident marked `current.marking` (the copy the change is based
 * on), or null: the same marking again changes nothing (core's `sameMarking`, the server's C20
 * conflict), and what the incident holds from stricter events is never restated wider (R14).
 */
export function markingBlocked(
  after: Marking,
  current: { marking: Marking; statedMarking?: Marking | undefined },
  caller: string | undefined,
): MarkingBlocked | null {
  if (sameMarking(after, current.marking))
    return {
      reason: 'unchanged',
      text: `Already marked ${describeMarking(current.marking)}: change the TLP, the PAP or the names to send a new marking.`,
    }
  const stated = current.statedMarking
  if (stated !== undefined && caller !== undefined && !reachesNoFurther(after, stated, caller))
    return {
      reason: 'stated',
      text: `This incident holds what was marked ${describeMarking(stated)}, stricter than a report of it: mark it at least as strictly.`,
    }
  return null
}
