/** The handover brief: `GET /api/v1/handover?since=ISO` (JSON, or Markdown with `Accept: text/markdown`). */
import type { DocumentMarking } from '@watchfloor/core'
import { PAP_LEVELS, type Pap, TLP_LEVELS, type Tlp } from '@watchfloor/protocol'

export const DEFAULT_HOURS = 8

/** The default "since": 8 hours ago, or the start of my session when that is later. */
export function defaultSince(now: number, sessionStartedAt: number, hours = DEFAULT_HOURS): number {
  const hoursAgo = now - hours * 3_600_000
  return sessionStartedAt > hoursAgo && sessionStartedAt <= now ? sessionStartedAt : hoursAgo
}

export function handoverUrl(since: number): string {
  return `/api/v1/handover?since=${encodeURIComponent(new Date(since).toISOString())}`
}

/** `handover-2026-11-26T0800Z.md` */
export function markdownFileName(since: number): string {
  return `handover-since-${new Date(since).toISOString().slice(0, 16).replace(/:/g, '')}Z.md`
}

/** `openIncidents` -> `Open incidents`, `acknowledged_by` -> `Acknowledged by`. */
export function humanise(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

const TITLE_KEYS = ['title', 'name', 'summary', 'text', 'body', 'message']

/** The field that names an item best (shown first, in bold). */
export function titleKey(item: Record<string, unknown>): string | undefined {
  return TITLE_KEYS.find((k) => typeof item[k] === 'string')
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/

/** A scalar as text: ISO times shortened to `2026-11-26 08:00:00Z`, lists joined. */
export function scalarText(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'string') {
    if (TIME.test(value)) {
      const ms = Date.parse(value)
      if (!Number.isNaN(ms)) return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`
    }
    return value
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.length === 0 ? 'none' : value.map(scalarText).join(', ')
  if (isSmallRecord(value)) return Object.values(value).map(scalarText).join(' ')
  return JSON.stringify(value)
}

/** A record of at most three scalar fields (an assignee, a viewer): shown inline. */
function isSmallRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const values = Object.values(value)
  return values.length <= 3 && values.every((v) => v === null || typeof v !== 'object')
}

export function isScalar(value: unknown): boolean {
  return (
    value === null ||
    typeof value !== 'object' ||
    (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) ||
    isSmallRecord(value)
  )
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
