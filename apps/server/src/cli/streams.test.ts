import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DURABLE_OPS, type DurableOps, IdSeqs, publishFile } from './streams.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('a finished export or backup', () => {
  it('is on disk before it takes its name, and the name is on disk after', () => {
    const done: string[] = []
    const recording: DurableOps = {
      syncFile: (path) => done.push(`sync ${path}`),
      rename: (from, to) => done.push(`rename ${from} ${to}`),
      syncFolder: (path) => done.push(`sync folder ${path}`),
    }
    publishFile('/srv/backups/site.wfb.partial', '/srv/backups/site.wfb', recording)
    expect(done).toEqual([
      'sync /srv/backups/site.wfb.partial',
      'rename /srv/backups/site.wfb.partial /srv/backups/site.wfb',
      'sync folder /srv/backups',
    ])
  })

  it('takes its name with its content, on a real file system', () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-publish-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'log.ndjson.partial'), '{"seq":1}\n')
    publishFile(join(dir, 'log.ndjson.partial'), join(dir, 'log.ndjson'), DURABLE_OPS)
    expect(readFileSync(join(dir, 'log.ndjson'), 'utf8')).toBe('{"seq":1}\n')
    expect(() => readFileSync(join(dir, 'log.ndjson.partial'))).toThrow()
  })
})

describe('the ids of a log read through', () => {
  it('gives back the seq each id was read at, and nothing for an id not read', () => {
    const ids = new IdSeqs()
    const id = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`
    for (let n = 0; n < 2_000; n++) ids.set(id(n * 7919), n + 1)
    for (let n = 0; n < 2_000; n++) expect(ids.get(id(n * 7919))).toBe(n + 1)
    expect(ids.get(id(1))).toBeUndefined()
    expect(ids.get('ffffffff-0000-4000-8000-000000000000')).toBeUndefined()
  })
})
