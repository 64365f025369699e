import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { StoredEvent } from '@watchfloor/protocol'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { getJson, observations, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

async function readAll(url: string, token: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = []
  let after = 0
  for (;;) {
    const { json } = await getJson<{ events: StoredEvent[]; next: number; head: number }>(
      `${url}/api/v1/events?after=${after}&limit=5000`,
      token,
    )
    out.push(...json.events)
    if (json.next >= json.head) return out
    after = json.next
  }
}

describe('durability', () => {
  it('[D7] kill -9 during ingest: after a restart every acknowledged event is there exactly once', async () => {
    const first = await startServerProcess()
    const dataDir = first.dataDir
    const acknowledged = new Set<string>()
    let stop = false
    const posters = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const batch = observations(50)
        try {
          const response = await post(first.url, TOKENS.sensorEe, { events: batch })
          if (response.status === 201) for (const r of response.json.results!) acknowledged.add(r.id)
        } catch {
          return // the server died mid-request: this batch was never acknowledged
        }
      }
    })
    await new Promise((r) => setTimeout(r, 1500))
    await first.kill9()
    stop = true
    await Promise.all(posters)
    expect(acknowledged.size).toBeGreaterThan(200)
    // the server process is really gone
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow()

    const second = await startServerProcess({ dataDir })
    try {
      const events = await readAll(second.url, TOKENS.viewerEe)
      const ids = events.map((e) => e.id)
      expect(new Set(ids).size).toBe(ids.length)
      const present = new Set(ids)
      const lost = [...acknowledged].filter((id) => !present.has(id))
      expect(lost).toEqual([])
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1))
      const [next] = (await post(second.url, TOKENS.sensorEe, observations(1)[0])).json.results!
      expect(next!.seq).toBe(events.length + 1)
    } finally {
      await second.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('several server processes on one PostgreSQL log', () => {
  const schema = `wf_int_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const servers: ServerProcess[] = []
  const watchers: Watcher[] = []
  afterAll(async () => {
    for (const w of watchers) w.close()
    for (const s of servers) await s.stop()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  })

  it('[D1, D2, D5] every console sees the same order and resumes exactly on any process', async () => {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`
    for (let i = 0; i < 2; i++)
      servers.push(await startServerProcess({ env: { WATCHFLOOR_DATABASE_URL: databaseUrl } }))
    const [a, b] = servers as [ServerProcess, ServerProcess]
    expect((await getJson<{ store: string }>(`${a.url}/readyz`, null)).json.store).toBe('postgres')

    const onA = new Watcher(a.url, TOKENS.viewerEe)
    const onB = new Watcher(b.url, TOKENS.viewerEe)
    watchers.push(onA, onB)
    await Promise.all([onA.subscribe(0), onB.subscribe(0)])

    // ingest through both processes at once
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(i % 2 ? a.url : b.url, TOKENS.sensorEe, { events: observations(20) }).then((r) => r.json.results!),
      ),
    )
    const total = results.flat().length
    expect(total).toBe(200)
    await onA.waitFor(() => onA.events.length >= total)
    await onB.waitFor(() => onB.events.length >= total)
    const expected = Array.from({ length: total }, (_, i) => i + 1)
    expect(onA.seqs()).toEqual(expected)
    expect(onB.seqs()).toEqual(expected)

    // a console moves from process A to process B and misses nothing
    const last = onA.lastSeq
    onA.close()
    await post(a.url, TOKENS.sensorEe, { events: observations(30) })
    const moved = new Watcher(b.url, TOKENS.viewerEe)
    watchers.push(moved)
    await moved.subscribe(last)
    await moved.waitFor(() => moved.events.length >= 30)
    await new Promise((r) => setTimeout(r, 200))
    expect(moved.seqs()).toEqual(Array.from({ length: 30 }, (_, i) => total + i + 1))
  })
})
