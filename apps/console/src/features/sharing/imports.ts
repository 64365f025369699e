/**
 * Importing a STIX 2.1 bundle or a MISP JSON document from a file (`POST /api/v1/import/stix` and
 * `POST /api/v1/import/misp`, docs/api.md): telling which it is, the request, and the server's
 * report read into one shape for both (created, used, skipped, defaulted, results, refused).
 *
 * Who may import: importing is posting, so core's `postingRefusal` (rules A1, A2: a posting role,
 * not read-only), asked of the session's actor (a console viewing as another audience is read-only).
 * The server asks the same and refuses otherwise (403).
 */
import { postingRefusal } from '@watchfloor/core'
import { TLP_LEVELS, type Tlp } from '@watchfloor/protocol'
import { createStore } from 'zustand/vanilla'
import { type Fetch, requestJson } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import { actorOf } from '../coordination/permissions.ts'
import { type FormError, formErrorOf } from './directory.ts'

export type ImportFormat = 'stix' | 'misp'

export const FORMAT_LABELS: Readonly<Record<ImportFormat, string>> = {
  stix: 'STIX 2.1 bundle',
  misp: 'MISP JSON',
}

/** The most the server reads (`BODY_LIMIT`, 10 MiB); a larger file is not sent. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024

/** The default TLP of unmarked objects the server takes when none is asked: AMBER, the importer's organisation. */
export const DEFAULT_IMPORT_TLP: Tlp = 'AMBER'
export const IMPORT_TLPS: readonly Tlp[] = TLP_LEVELS

/** How many import reports of this session the page keeps. */
export const KEPT_REPORTS = 5

/** May `session` import: core's posting rule [A1, A2] for its actor. */
export function mayImport(session: Session | null | undefined): boolean {
  if (!session) return false
  const actor = actorOf(session)
  return postingRefusal({ ...actor, user: actor.userId, sources: [] }) === undefined
}

/** A STIX bundle says `type: "bundle"`; anything else is read as MISP (an event, a search answer, a feed). */
export function detectFormat(document: unknown): ImportFormat {
  const type = (document as { type?: unknown } | null)?.type
  return typeof document === 'object' && document !== null && !Array.isArray(document) && type === 'bundle'
    ? 'stix'
    : 'misp'
}

/** `/api/v1/import/stix?defaultTlp=AMBER%2BSTRICT`. */
export function importPath(format: ImportFormat, defaultTlp: Tlp): string {
  return `/api/v1/import/${format}?${new URLSearchParams({ defaultTlp }).toString()}`
}

/** What a file holds, before it is sent: its format and a few words about it ("3 objects", "2 events"). */
export interface ImportFile {
  name: string
  bytes: number
  format: ImportFormat
  /** The parsed JSON, sent as it is. */
  document: unknown
  summary: string
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** "3 objects (2 incident, 1 malware)"; for MISP the events it seems to hold. */
export function summaryOf(format: ImportFormat, document: unknown): string {
  const d = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>
  if (format === 'stix') {
    const objects = Array.isArray(d.objects) ? d.objects : []
    const types = new Map<string, number>()
    for (const o of objects) {
      const type = String((o as { type?: unknown } | null)?.type ?? '?')
      types.set(type, (types.get(type) ?? 0) + 1)
    }
    const list = [...types].map(([type, n]) => `${n} ${type}`).join(', ')
    return `${plural(objects.length, 'object')}${list ? ` (${list})` : ''}`
  }
  if (Array.isArray(d.response)) return `a search answer of ${plural(d.response.length, 'event')}`
  if (typeof d.events === 'object' && d.events !== null)
    return `a feed of ${plural(Object.keys(d.events as object).length, 'event')}`
  const event = (typeof d.Event === 'object' && d.Event !== null ? d.Event : d) as { info?: unknown }
  return typeof event.info === 'string' ? `1 event: ${event.info}` : '1 event'
}

/** A file's text read as an import, or why it cannot be sent (too large, not JSON). */
export function readImportFile(
  name: string,
  bytes: number,
  text: string,
): { ok: true; file: ImportFile } | { ok: false; message: string } {
  if (bytes > MAX_IMPORT_BYTES)
    return { ok: false, message: `${name} is ${formatBytes(bytes)}: the server takes at most 10 MB` }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return { ok: false, message: `${name} is not JSON (${(error as Error).message})` }
  }
  if (typeof document !== 'object' || document === null)
    return { ok: false, message: `${name} holds no JSON object: neither a STIX bundle nor a MISP document` }
  const format = detectFormat(document)
  return { ok: true, file: { name, bytes, format, document, summary: summaryOf(format, document) } }
}

/** "812 B", "14.2 KB", "3.1 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

// ---------------------------------------------------------------------------- the report

export interface ImportCreated {
  /** The STIX id, or the MISP event's uuid. */
  id: string
  /** The STIX type, or what the MISP event became (incident, advisory). */
  type: string
  /** MISP: the incident or advisory id it became. */
  target?: string
  eventIds: string[]
  /** MISP: what a person should know. */
  notes: string[]
}

export interface ImportSkipped {
  id?: string
  /** The STIX type, or the MISP `what` (event, attribute, object...). */
  type: string
  reason: string
  /** MISP: the event it belongs to. */
  event?: string
}

export interface ImportUsed {
  id: string
  type: string
  as: string
}

export interface ImportResult {
  id: string
  /** Absent when the importer may not see the event (the server tells no seq of it, D14). */
  seq?: number
  duplicate: boolean
}

export interface ImportRefused {
  id: string
  type: string
  code: string
  message: string
}

/** The server's answer to an import, for both formats. */
export interface ImportReport {
  defaultTlp: string
  created: ImportCreated[]
  used: ImportUsed[]
  skipped: ImportSkipped[]
  /** STIX: objects with no TLP of their own, which took the default. */
  defaulted: string[]
  results: ImportResult[]
  refused: ImportRefused[]
  /** Results that are new events. */
  stored: number
  /** Results already in the log (the same objects imported before). */
  duplicates: number
}

const list = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : []
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []

/** The reply of an import, read defensively: a missing list is empty. */
export function readReport(format: ImportFormat, body: unknown): ImportReport {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const created: ImportCreated[] = list(b.created).map((c) => {
    if (format === 'misp') {
      const target = str(c.id)
      return {
        id: str(c.uuid) ?? target ?? '?',
        type: str(c.kind) ?? 'event',
        ...(target === undefined ? {} : { target }),
        eventIds: strings(c.eventIds),
        notes: strings(c.notes),
      }
    }
    return { id: str(c.stixId) ?? '?', type: str(c.type) ?? '?', eventIds: strings(c.eventIds), notes: [] }
  })
  const skipped: ImportSkipped[] = list(b.skipped).map((s) => {
    const id = str(s.stixId) ?? str(s.uuid)
    const event = str(s.event)
    return {
      ...(id === undefined ? {} : { id }),
      type: str(s.type) ?? str(s.what) ?? '?',
      reason: str(s.reason) ?? '',
      ...(event === undefined ? {} : { event }),
    }
  })
  const used: ImportUsed[] = list(b.used).map((u) => ({
    id: str(u.stixId) ?? '?',
    type: str(u.type) ?? '?',
    as: str(u.as) ?? '',
  }))
  const results: ImportResult[] = list(b.results).map((r) => ({
    id: str(r.id) ?? '?',
    ...(typeof r.seq === 'number' ? { seq: r.seq } : {}),
    duplicate: r.duplicate === true,
  }))
  const refused: ImportRefused[] = list(b.refused).map((r) => ({
    id: str(r.id) ?? '?',
    type: str(r.type) ?? '?',
    code: str(r.code) ?? 'internal',
    message: str(r.message) ?? '',
  }))
  const tlp = str((b.defaultMarking as { tlp?: unknown } | undefined)?.tlp) ?? DEFAULT_IMPORT_TLP
  const duplicates = results.filter((r) => r.duplicate).length
  return {
    defaultTlp: tlp,
    created,
    used,
    skipped,
    defaulted: strings(b.defaulted),
    results,
    refused,
    stored: results.length - duplicates,
    duplicates,
  }
}

/** "1 created · 1 new event · 1 skipped · 1 defaulted to AMBER"; refusals and duplicates when there are any. */
export function headlineOfReport(report: ImportReport): string {
  const parts = [`${report.created.length} created`, plural(report.stored, 'new event')]
  if (report.duplicates > 0) parts.push(`${report.duplicates} already in the log`)
  if (report.refused.length > 0) parts.push(`${report.refused.length} refused`)
  parts.push(`${report.skipped.length} skipped`)
  if (report.defaulted.length > 0) parts.push(`${report.defaulted.length} defaulted to ${report.defaultTlp}`)
  return parts.join(' · ')
}

// ---------------------------------------------------------------------------- sending, and what is kept

/** One import of this session: what was sent, and the report or the refusal. */
export interface ImportEntry {
  key: number
  /** When it was answered (ISO). */
  at: string
  fileName: string
  format: ImportFormat
  defaultTlp: Tlp
  /** Who imported (the page shows only the signed-in person's). */
  user: string
  outcome: { ok: true; report: ImportReport } | { ok: false; error: FormError }
}

/** The newest first, at most `max`. */
export function withEntry(entries: readonly ImportEntry[], entry: ImportEntry, max = KEPT_REPORTS): ImportEntry[] {
  return [entry, ...entries].slice(0, max)
}

/** Send the file's JSON as it is; the report, or the server's refusal (a 400 with `details.issues`). */
export async function sendImport(
  file: Pick<ImportFile, 'format' | 'document'>,
  defaultTlp: Tlp,
  fetchFn: Fetch = fetch,
): Promise<{ ok: true; report: ImportReport } | { ok: false; error: FormError }> {
  try {
    const body = await requestJson<unknown>(importPath(file.format, defaultTlp), {
      method: 'POST',
      json: file.document,
      fetchFn,
    })
    return { ok: true, report: readReport(file.format, body) }
  } catch (error) {
    return { ok: false, error: formErrorOf(error) }
  }
}

/**
 * The import reports of this session, kept while the console is open (leaving the Sharing page and
 * coming back keeps them; a reload of the page forgets them). The page shows the signed-in
 * person's only.
 */
export const importHistory = createStore<{
  entries: ImportEntry[]
  next: number
  add(entry: Omit<ImportEntry, 'key'>): void
  clear(): void
}>((set) => ({
  entries: [],
  next: 1,
  add: (entry) =>
    set((s) => ({
      // another person signed in on this console: the earlier person's reports go
      entries: withEntry(
        s.entries.filter((e) => e.user === entry.user),
        { ...entry, key: s.next },
      ),
      next: s.next + 1,
    })),
  clear: () => set({ entries: [] }),
}))
