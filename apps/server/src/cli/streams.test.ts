import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DURABLE_OPS, type DurableOps, IdSeqs, lineWriter, publishFile } from './streams.ts'

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

describe('the writer of an export or a backup', () => {
  it('publishes its file whole and durable once finished, and leaves nothing under either name when aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-writer-'))
    dirs.push(dir)
    const done: string[] = []
    const recording: DurableOps = {
      syncFile: (path) => {
        done.push(`sync ${path}`)
        DURABLE_OPS.syncFile(path)
      },
      rename: (from, to) => {
        done.push(`rename ${from} ${to}`)
        DURABLE_OPS.rename(from, to)
      },
      syncFolder: (path) => {
        done.push(`sync folder ${path}`)
        DURABLE_OPS.syncFolder(path)
      },
    }
    const context = { file: (name: string) => join(dir, name) }
    const writer = lineWriter(context, 'log.ndjson', recording)
    await writer.write('{"seq":1}')
    await writer.write('{"seq":2}')
    // nothing under the final name until it is whole
    expect(existsSync(join(dir, 'log.ndjson'))).toBe(false)
    await writer.finish()
    expect(done).toEqual([
      `sync ${join(dir, 'log.ndjson.partial')}`,
      `rename ${join(dir, 'log.ndjson.partial')} ${join(dir, 'log.ndjson')}`,
      `sync folder ${dir}`,
    ])
    expect(readFileSync(join(dir, 'log.ndjson'), 'utf8')).toBe('{"seq":1}\n{"seq":2}\n')
    expect(statSync(join(dir, 'log.ndjson')).mode & 0o777).toBe(0o600)

    done.length = 0
    const aborted = lineWriter(context, 'cut.ndjson', recording)
    await aborted.write('{"seq":1}')
    await aborted.abort()
    // the stream's file opened after the abort began is removed too, not left behind
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(done).toEqual([])
    expect(existsSync(join(dir, 'cut.ndjson'))).toBe(false)
    expect(existsSync(join(dir, 'cut.ndjson.partial'))).toBe(false)
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
