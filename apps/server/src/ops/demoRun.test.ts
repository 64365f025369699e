import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO_RUN_FILE, type DemoRun, demoStart, readDemoRun, writeDemoRun } from './demoRun.ts'

const settings = { seed: 42, speed: 10, rate: 2 }
const T1 = Date.UTC(2026, 11, 7, 8, 0, 0)
const earlier: DemoRun = { ...settings, idSalt: T1, timeBases: [T1] }

describe('a demo started again on its log', () => {
  const posted = (at: number) => ({
    id: 'c0ffee00-0000-4000-8000-000000000001',
    occurredAt: new Date(at).toISOString(),
  })

  it('continues after the last event the earlier run posted, looked for where each recorded time base puts it', () => {
    const now = T1 + 3_600_000
    // the last event posted 2 minutes of wall time into the run, at speed 10: 20 minutes of story
    const start = demoStart(earlier, settings, posted(T1 + 120_000), now)
    expect(start).toEqual({
      startTime: now,
      idSalt: T1,
      resumeAfter: { id: 'c0ffee00-0000-4000-8000-000000000001', near: [1_200_000] },
    })
    // two time bases (a later run's first batch stored, its answer lost): a place for each that
    // comes before the event, the latest first
    const T2 = T1 + 60_000
    const both = demoStart({ ...earlier, timeBases: [T2, T1] }, settings, posted(T1 + 120_000), now)
    expect(both.resumeAfter?.near).toEqual([600_000, 1_200_000])
    const later = demoStart({ ...earlier, timeBases: [T1 + 600_000, T1] }, settings, posted(T1 + 120_000), now)
    expect(later.resumeAfter?.near).toEqual([1_200_000])
  })

  it('starts afresh with no earlier run, no event of it in the log, or other settings', () => {
    const now = T1 + 60_000
    expect(demoStart(undefined, settings, posted(T1 + 1000), now)).toEqual({ startTime: now, idSalt: now })
    expect(demoStart(earlier, settings, undefined, now)).toEqual({ startTime: now, idSalt: now })
    for (const other of [{ seed: 43 }, { speed: 1 }, { rate: 5 }])
      expect(demoStart(earlier, { ...settings, ...other }, posted(T1 + 1000), now)).toEqual({
        startTime: now,
        idSalt: now,
      })
    // a last event before the time base (a log not of this run): afresh
    expect(demoStart(earlier, settings, posted(T1 - 5000), now)).toEqual({ startTime: now, idSalt: now })
  })
})

describe('the record of the run', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('is written whole, 0600, read back; a missing or damaged one reads as none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-demo-run-'))
    dirs.push(dir)
    expect(readDemoRun(dir)).toBeUndefined()
    writeDemoRun(dir, earlier)
    expect(readDemoRun(dir)).toEqual(earlier)
    expect(statSync(join(dir, DEMO_RUN_FILE)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(join(dir, DEMO_RUN_FILE), 'utf8'))).toEqual(earlier)
    writeFileSync(join(dir, DEMO_RUN_FILE), '{"seed": 42, "speed": ')
    expect(readDemoRun(dir)).toBeUndefined()
    writeFileSync(join(dir, DEMO_RUN_FILE), JSON.stringify({ ...earlier, timeBases: ['yesterday'] }))
    expect(readDemoRun(dir)).toBeUndefined()
    writeFileSync(join(dir, DEMO_RUN_FILE), JSON.stringify({ ...earlier, timeBases: [] }))
    expect(readDemoRun(dir)).toBeUndefined()
  })
})
