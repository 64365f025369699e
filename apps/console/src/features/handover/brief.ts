/** The handover brief: `GET /api/v1/handover?since=ISO` (JSON, or Markdown with `Accept: text/markdown`). */
import type { DocumentMarking, HandoverBrief } from '@watchfloor/core'
import { PAP_LEVELS, type Pap, TLP_LEVELS, type Tlp } from '@watchfloor/protocol'

export const DEFAULT_HOURS = 8

/** A session younger than this is an officer coming on shift: the brief covers the shift before. */
export const MIN_SHIFT_MS = 3_600_000

/**
 * The default "since", and why: the start of my session when I have held it for an hour or more
 * (I am handing over my shift: `session`), else 8 hours ago: I have just come on and read the shift
 * before mine (`new-shift`), or I have held my session for longer than 8 hours (`long-session`);
 * never further back than 8 hours.
 */
export function defaultSinceChoice(
  now: number,
  sessionStartedAt: number,
  hours = DEFAULT_HOURS,
): { ms: number; why: 'session' | 'new-shift' | 'long-session' } {
  const hoursAgo = now - hours * 3_600_000
  const held = now - sessionStartedAt
  if (sessionStartedAt <= hoursAgo) return { ms: hoursAgo, why: 'long-session' }
  return held >= MIN_SHIFT_MS ? { ms: sessionStartedAt, why: 'session' } : { ms: hoursAgo, why: 'new-shift' }
}

/** The brief since `since`; with `until` (the one the page shows), the same window again (its download). */
export function handoverUrl(since: number, until?: string): string {
  const url = `/api/v1/handover?since=${encodeURIComponent(new Date(since).toISOString())}`
  return until === undefined ? url : `${url}&until=${encodeURIComponent(until)}`
}

/** `handover-since-2026-11-26T0800Z.md` */
export function markdownFileName(since: number): string {
  return `handover-since-${new Date(since).toISOString().slice(0, 16).replace(/:/g, '')}Z.md`
}

/**
 * The brief when it is one this console reads (a summary and the lists it shows), else null: an
 * older server's brief has no summary, and the page says so rather than showing half of it.
 */
export function readableBrief(value: unknown): HandoverBrief | null {
  if (typeof value !== 'object' || value === null) return null
  const brief = value as Partial<HandoverBrief>
  const lists = [
    brief.incidents?.open,
    brief.incidents?.attention,
    brief.incidents?.closed,
    brief.incidents?.new,
    brief.incidents?.escalated,
    brief.tasks?.open,
    brief.tasks?.overdue,
    brief.tasks?.done,
    brief.acknowledgements,
    brief.comments,
    brief.advisories,
  ]
  return typeof brief.summary === 'string' &&
    typeof brief.until === 'string' &&
    typeof brief.viewer === 'object' &&
    lists.every(Array.isArray)
    ? (value as HandoverBrief)
    : null
}

/**
 * [M1] The brief's own marking, as the server sends it (`marking`: the strictest TLP and PAP of
 * what it lists; `tlp` alone from an older server); null while there is none to show.
 */
export function briefMarking(brief: unknown): DocumentMarking | null {
  if (typeof brief !== 'object' || brief === null) return null
  const { marking, tlp } = brief as { marking?: unknown; tlp?: unknown }
  const isTlp = (value: unknown): value is Tlp =>
    typeof value === 'string' && (TLP_LEVELS as readonly string[]).includes(value)
  const isPap = (value: unknown): value is Pap =>
    typeof value === 'string' && (PAP_LEVELS as readonly string[]).includes(value)
  if (typeof marking === 'object' && marking !== null) {
    const m = marking as { tlp?: unknown; pap?: unknown }
    if (isTlp(m.tlp)) return isPap(m.pap) ? { tlp: m.tlp, pap: m.pap } : { tlp: m.tlp }
  }
  return isTlp(tlp) ? { tlp } : null
}
