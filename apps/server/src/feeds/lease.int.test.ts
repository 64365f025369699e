import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteCredentialStore, SqliteEventStore } from '@watchfloor/store'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Directory } from '../access/directory.ts'
import { FullState } from '../read/projection.ts'
import { FeedPoller } from './poller.ts'

const T = (minute: number) => `2026-12-01T08:${String(minute).padStart(2, '0')}:00.000Z`
const incident = (n: number) => ({
  type: 'incident',
  spec_version: '2.1',
  id: `incident--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: T(n),
  modified: T(n),
  name: `Slow page ${n}`,
  object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
})

/** A partner that serves one incident a page, `pages` pages, each after `delayMs`. */
async function slowPartner(pages: number, delayMs: number): Promise<{ server: Server; url: string; asked: string[] }> {
  const asked: string[] = []
  const server = createServer((req, res) => {
    const next = Number(new URL(req.url ?? '/', 'http://partner').searchParams.get('next') ?? '1')
    asked.push(String(next))
    setTimeout(() => {
      res.writeHead(200, {
        'content-type': 'application/taxii+json;version=2.1',
        'x-taxii-date-added-first': T(next),
        'x-taxii-date-added-last': T(next),
      })
      const more = next < pages
      res.end(JSON.stringify({ more, ...(more ? { next: String(next + 1) } : {}), objects: [incident(next)] }))
    }, delayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked }
}

// a real SQLite credential store and log, a real partner over http: the lease as two processes see it
describe('a feed poll longer than its lease', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  /** Stores in a scratch directory, a partner of `pages` pages each after `delayMs`, and a poller (process-a) holding leases of `leaseMs`. */
  async function setup(feedId: string, pages: number, delayMs: number, leaseMs: number) {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-lease-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const credentials = new SqliteCredentialStore({ file: join(dir, 'credentials.db') })
    const store = new SqliteEventStore({ file: join(dir, 'events.db') })
    cleanup.push(() => credentials.close())
    cleanup.push(() => store.close())
    await credentials.createOrganisation({ id: 'cert-ee', name: 'CERT-EE', nation: 'EE', kind: 'ally_cert' })
    const partner = await slowPartner(pages, delayMs)
    cleanup.push(() => new Promise<void>((resolve) => partner.server.close(() => resolve())))
    const feed = await credentials.createFeed({
      id: feedId,
      label: `Partner ${feedId}`,
      url: partner.url,
      apiRoot: 'api',
      collectionId: 'all',
      organisation: 'cert-ee',
      auth: { kind: 'none' },
      pollSeconds: 300,
      defaultTlp: 'GREEN',
      createdBy: 'admin',
    })
    const logger = pino({ level: 'silent' })
    const directory = new Directory(credentials, logger)
    await directory.load()
    const full = new FullState(store)
    const poller = new FeedPoller(credentials, store, directory, () => full.owners.fresh(), logger, {
      holder: 'process-a',
      leaseMs,
    })
    return { credentials, partner, feed, poller }
  }

  it('renews the lease page by page: another process cannot take the feed while the poll runs', async () => {
    // the lease lasts 400 ms; the poll takes six pages of 150 ms
    const { credentials, feed, poller } = await setup('slow', 6, 150, 400)
    const polling = poller.poll(feed)
    const tries: boolean[] = []
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 160))
      tries.push(await credentials.claimFeed('slow', 'process-b', 400))
    }
    const outcome = await polling
    expect(tries).toEqual([false, false, false, false, false])
    expect(outcome).toMatchObject({ pages: 6, imported: 6 })
    expect((await credentials.getFeedState('slow'))?.cursor).toBe(T(6))
  })

  it('a poll that lost its lease stops after the page it has, and the other process goes on from its cursor', async () => {
    // the first page takes longer than the lease: another process takes the feed meanwhile
    const { credentials, partner, feed, poller } = await setup('stalled', 3, 600, 300)
    const polling = poller.poll(feed)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await credentials.claimFeed('stalled', 'process-b', 60_000)).toBe(true)
    const outcome = await polling
    expect(outcome).toMatchObject({ pages: 1, imported: 1 })
    // the page held one time only, which the next might hold too: the cursor stays before it, so the
    // other process reads that object again (a duplicate) and skips none
    expect((await credentials.getFeedState('stalled'))?.cursor).toBeNull()
    expect(partner.asked).toEqual(['1'])
  })
})
