import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Session } from '../../data/store.ts'
import {
  detectFormat,
  formatBytes,
  headlineOfReport,
  type ImportEntry,
  importHistory,
  importPath,
  KEPT_REPORTS,
  MAX_IMPORT_BYTES,
  mayImport,
  readImportFile,
  readReport,
  sendImport,
  summaryOf,
  withEntry,
} from './imports.ts'

const session = (roles: Session['roles'], extra: Partial<Session> = {}): Session => ({
  user: 'u',
  organisation: 'cert-ee',
  nation: 'EE',
  roles,
  ...extra,
})

const bundle = {
  type: 'bundle',
  id: 'bundle--00000000-0000-4000-8000-000000000001',
  objects: [
    { type: 'incident', id: 'incident--1', name: 'Worm' },
    { type: 'malware', id: 'malware--1', is_family: false },
    { type: 'incident', id: 'incident--2', name: 'Other' },
  ],
}

type Call = [string, RequestInit]
function fakeFetch(status: number, body: unknown) {
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) => Response.json(body, { status }))
}
const callOf = (fetchFn: ReturnType<typeof fakeFetch>, i = 0) => fetchFn.mock.calls[i] as unknown as Call

describe('telling STIX from MISP', () => {
  it('a bundle is STIX; anything else is MISP', () => {
    expect(detectFormat(bundle)).toBe('stix')
    expect(detectFormat({ Event: { info: 'x' } })).toBe('misp')
    expect(detectFormat({ response: [] })).toBe('misp')
    expect(detectFormat({ manifest: {}, events: {} })).toBe('misp')
    expect(detectFormat({ type: 'report' })).toBe('misp')
    expect(detectFormat([{ type: 'bundle' }])).toBe('misp')
    expect(detectFormat(null)).toBe('misp')
  })

  it('says in a few words what a file holds', () => {
    expect(summaryOf('stix', bundle)).toBe('3 objects (2 incident, 1 malware)')
    expect(summaryOf('stix', { type: 'bundle', id: 'x' })).toBe('0 objects')
    expect(summaryOf('misp', { Event: { info: 'Phishing wave' } })).toBe('1 event: Phishing wave')
    expect(summaryOf('misp', { info: 'Bare event' })).toBe('1 event: Bare event')
    expect(summaryOf('misp', { response: [{}, {}] })).toBe('a search answer of 2 events')
    expect(summaryOf('misp', { manifest: {}, events: { a: {} } })).toBe('a feed of 1 event')
  })

  it('reads a file: JSON it sends as it is, or why it cannot be sent', () => {
    const text = JSON.stringify(bundle)
    const read = readImportFile('b.json', text.length, text)
    expect(read).toMatchObject({ ok: true, file: { name: 'b.json', format: 'stix', document: bundle } })
    expect(readImportFile('m.json', 20, '{"Event":{"info":"x"}}')).toMatchObject({ ok: true, file: { format: 'misp' } })
    const notJson = readImportFile('n.json', 5, '{oops')
    expect(notJson.ok).toBe(false)
    expect(!notJson.ok && notJson.message).toMatch(/^n\.json is not JSON/)
    expect(readImportFile('s.json', 3, '"x"')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/no JSON object/),
    })
    expect(readImportFile('big.json', MAX_IMPORT_BYTES + 1, '{}')).toMatchObject({
      ok: false,
      message: 'big.json is 10.0 MB: the server takes at most 10 MB',
    })
    expect(formatBytes(812)).toBe('812 B')
    expect(formatBytes(14_540)).toBe('14.2 KB')
  })
})

describe('the request', () => {
  it('goes to the route of its format with the default TLP escaped', () => {
    expect(importPath('stix', 'AMBER')).toBe('/api/v1/import/stix?defaultTlp=AMBER')
    expect(importPath('misp', 'AMBER+STRICT')).toBe('/api/v1/import/misp?defaultTlp=AMBER%2BSTRICT')
  })

  it('posts the document as JSON and reads the report', async () => {
    const fetchFn = fakeFetch(200, {
      defaultMarking: { tlp: 'GREEN' },
      created: [{ stixId: 'incident--1', type: 'incident', eventIds: ['e1'] }],
      used: [],
      skipped: [{ stixId: 'malware--1', type: 'malware', reason: 'the floor has no counterpart for malware objects' }],
      defaulted: ['incident--1'],
      // e2: an event the importer may not see (posted for another organisation): no seq [D14]
      results: [
        { id: 'e1', seq: 7, duplicate: false },
        { id: 'e2', duplicate: false },
      ],
      refused: [],
    })
    const sent = await sendImport({ format: 'stix', document: bundle }, 'GREEN', fetchFn)
    expect(sent.ok && sent.report.results).toEqual([
      { id: 'e1', seq: 7, duplicate: false },
      { id: 'e2', duplicate: false },
    ])
    const [path, init] = callOf(fetchFn)
    expect(path).toBe('/api/v1/import/stix?defaultTlp=GREEN')
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin' })
    expect(init.headers).toMatchObject({ 'Content-Type': 'application/json' })
    expect(JSON.parse(String(init.body))).toEqual(bundle)
    expect(sent).toMatchObject({ ok: true, report: { created: [{ id: 'incident--1' }], stored: 2, duplicates: 0 } })
  })

  it('gives a 400’s issues, a 403’s words', async () => {
    const invalid = fakeFetch(400, {
      error: {
        code: 'validation',
        message: 'not a valid STIX 2.1 bundle: objects.0.name is required',
        details: { issues: [{ path: 'objects.0.name', message: 'is required' }] },
      },
    })
    expect(await sendImport({ format: 'stix', document: bundle }, 'AMBER', invalid)).toEqual({
      ok: false,
      error: {
        status: 400,
        code: 'validation',
        message: 'not a valid STIX 2.1 bundle: objects.0.name is required',
        issues: [{ path: 'objects.0.name', message: 'is required' }],
      },
    })
    const forbidden = fakeFetch(403, { error: { code: 'forbidden', message: 'posting events needs one of the roles' } })
    expect(await sendImport({ format: 'misp', document: {} }, 'AMBER', forbidden)).toMatchObject({
      ok: false,
      error: { status: 403, code: 'forbidden' },
    })
  })
})

describe('reading the report', () => {
  it('reads a STIX report: created, used, skipped, defaulted, results and refusals', () => {
    const report = readReport('stix', {
      defaultMarking: { tlp: 'AMBER' },
      created: [
        { stixId: 'incident--1', type: 'incident', eventIds: ['e1', 'e2'] },
        { stixId: 'incident--2', type: 'incident', eventIds: ['e3'] },
      ],
      used: [{ stixId: 'identity--1', type: 'identity', as: 'author' }],
      skipped: [
        { stixId: 'malware--1', type: 'malware', reason: 'no counterpart' },
        { type: 'x', reason: 'r' },
      ],
      defaulted: ['incident--1'],
      results: [
        { id: 'e1', seq: 1, duplicate: false },
        { id: 'e2', seq: 2, duplicate: true },
      ],
      refused: [{ id: 'e3', type: 'incident.reported', code: 'forbidden', message: 'belongs to another organisation' }],
    })
    expect(report).toEqual({
      defaultTlp: 'AMBER',
      created: [
        { id: 'incident--1', type: 'incident', eventIds: ['e1', 'e2'], notes: [] },
        { id: 'incident--2', type: 'incident', eventIds: ['e3'], notes: [] },
      ],
      used: [{ id: 'identity--1', type: 'identity', as: 'author' }],
      skipped: [
        { id: 'malware--1', type: 'malware', reason: 'no counterpart' },
        { type: 'x', reason: 'r' },
      ],
      defaulted: ['incident--1'],
      results: [
        { id: 'e1', seq: 1, duplicate: false },
        { id: 'e2', seq: 2, duplicate: true },
      ],
      refused: [{ id: 'e3', type: 'incident.reported', code: 'forbidden', message: 'belongs to another organisation' }],
      stored: 1,
      duplicates: 1,
    })
    expect(headlineOfReport(report)).toBe(
      '2 created · 1 new event · 1 already in the log · 1 refused · 2 skipped · 1 defaulted to AMBER',
    )
  })

  it('reads a MISP report: the uuid, what it became and its notes', () => {
    const report = readReport('misp', {
      defaultMarking: { tlp: 'GREEN' },
      created: [{ uuid: 'u-1', kind: 'incident', id: 'misp-u-1', eventIds: ['e1'], notes: ['unknown organisation'] }],
      skipped: [{ uuid: 'a-1', event: 'u-1', what: 'attribute', reason: 'a comment' }],
      results: [{ id: 'e1', seq: 4, duplicate: true }],
      refused: [],
    })
    expect(report.created).toEqual([
      { id: 'u-1', type: 'incident', target: 'misp-u-1', eventIds: ['e1'], notes: ['unknown organisation'] },
    ])
    expect(report.skipped).toEqual([{ id: 'a-1', type: 'attribute', reason: 'a comment', event: 'u-1' }])
    expect(report).toMatchObject({ defaultTlp: 'GREEN', defaulted: [], used: [], stored: 0, duplicates: 1 })
    expect(headlineOfReport(report)).toBe('1 created · 0 new events · 1 already in the log · 1 skipped')
  })

  it('reads a reply missing its lists as empty', () => {
    expect(readReport('stix', null)).toMatchObject({
      defaultTlp: 'AMBER',
      created: [],
      skipped: [],
      defaulted: [],
      results: [],
      refused: [],
      stored: 0,
    })
  })
})

describe('who imports, and what the page keeps', () => {
  afterEach(() => importHistory.getState().clear())

  it('asks core’s posting rule: sensors, coordinators and admins; not read-only', () => {
    expect(mayImport(session(['sensor']))).toBe(true)
    expect(mayImport(session(['coordinator']))).toBe(true)
    expect(mayImport(session(['admin'], { kind: 'session' }))).toBe(true)
    expect(mayImport(session(['liaison']))).toBe(false)
    expect(mayImport(session(['analyst', 'watch_officer']))).toBe(false)
    expect(mayImport(session(['admin'], { kind: 'display' }))).toBe(false)
    expect(mayImport(session(['admin'], { viewingAs: { kind: 'community', id: 'baltic' } }))).toBe(false)
    expect(mayImport(null)).toBe(false)
  })

  const entry = (key: number, user = 'u'): ImportEntry => ({
    key,
    at: '2026-11-01T12:00:00.000Z',
    fileName: `f${key}.json`,
    format: 'stix',
    defaultTlp: 'AMBER',
    user,
    outcome: { ok: true, report: readReport('stix', {}) },
  })

  it('keeps the last few reports, newest first', () => {
    let kept: ImportEntry[] = []
    for (let key = 1; key <= KEPT_REPORTS + 2; key++) kept = withEntry(kept, entry(key))
    expect(kept.map((e) => e.key)).toEqual([7, 6, 5, 4, 3])
  })

  it('numbers what it keeps, and forgets another person’s reports', () => {
    const { add } = importHistory.getState()
    const { key: _a, ...first } = entry(0, 'kadri')
    add(first)
    add(first)
    expect(importHistory.getState().entries.map((e) => [e.key, e.user])).toEqual([
      [2, 'kadri'],
      [1, 'kadri'],
    ])
    const { key: _b, ...other } = entry(0, 'mart')
    add(other)
    expect(importHistory.getState().entries.map((e) => e.user)).toEqual(['mart'])
  })
})
