import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

/** How long after a person's action a batch the simulator had already collected may still arrive. */
const IN_FLIGHT_MS = 300

interface Incident {
  incidentId: string
  status: string
  severity: string
  version: number
}

/**
 * The demo's simulator never undoes what people do (issue 16): once a coordinator has acted on an
 * incident, the scenario's scripted updates of it are held back. The real server with its
 * simulator on, played 120 times faster than real time (the first wave of the outbreak: about 11 s).
 */
describe('the simulator leaves an incident people act on to them', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServerProcess({
      env: {
        WATCHFLOOR_SIMULATOR: 'on',
        WATCHFLOOR_SIMULATOR_SPEED: '120',
        WATCHFLOOR_SIMULATOR_RATE: '0',
        WATCHFLOOR_SIMULATOR_SEED: '42',
      },
    })
  })
  afterAll(async () => {
    await server?.stop()
  })

  const incidents = async () =>
    (await getJson<{ incidents: Incident[] }>(`${server.url}/api/v1/state`, TOKENS.coordEeA)).json.incidents

  async function readAll(): Promise<StoredEvent[]> {
    const events: StoredEvent[] = []
    let after = 0
    for (;;) {
      const { json: page } = await getJson<{ events: StoredEvent[]; next: number }>(
        `${server.url}/api/v1/events?after=${after}&limit=5000`,
        TOKENS.coordEeA,
      )
      events.push(...page.events)
      if (page.events.length === 0 || page.next === after) return events
      after = page.next
    }
  }

  it("the scenario's organisations are in the directory under their names, so a view as one of them can be chosen", async () => {
    const { json } = await getJson<{ organisations: { id: string; name: string; nation: string; kind: string }[] }>(
      `${server.url}/api/v1/directory`,
      TOKENS.coordEeA,
    )
    const byId = new Map(json.organisations.map((organisation) => [organisation.id, organisation]))
    expect(byId.get('cert-si')).toMatchObject({ name: 'National CERT of Slovenia', nation: 'SI', kind: 'ally_cert' })
    expect(byId.get('cert-gr')).toMatchObject({ name: 'National CERT of Greece', nation: 'GR' })
    expect(byId.get('alliance')).toMatchObject({
      name: 'Alliance cyber defence',
      nation: 'ALLIANCE',
      kind: 'alliance_body',
    })
    // one the tokens' principals brought in first, named only by its id, takes the scenario's name
    expect(byId.get('cert-ee')).toMatchObject({ name: 'National CERT of Estonia', nation: 'EE' })
    // every organisation the scenario posts for
    const posting = new Set((await readAll()).map((event) => event.source.organisation))
    for (const organisation of posting) expect(byId.has(organisation), organisation).toBe(true)
  })

  it('holds back its scripted updates of an incident a coordinator escalated, and goes on with the others', async () => {
    // a coordinator takes over the first incident the outbreak reports that is still early in its course
    let escalated: { incidentId: string; seq: number; at: number } | undefined
    const deadline = Date.now() + 20_000
    while (!escalated && Date.now() < deadline) {
      const early = (await incidents()).find(
        (i) => (i.status === 'reported' || i.status === 'triaged') && i.severity !== 'critical',
      )
      if (early) {
        const response = await fetch(`${server.url}/api/v1/commands`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.coordEeA}` },
          body: JSON.stringify({
            type: 'incident.escalate',
            incidentId: early.incidentId,
            severity: 'critical',
            reason: 'spreading to our networks',
            expectedVersion: early.version,
          }),
        })
        const body = (await response.json()) as { events?: StoredEvent[] }
        // 409: the scenario updated it meanwhile; look again
        if (response.ok) {
          const last = body.events!.at(-1)!
          escalated = { incidentId: early.incidentId, seq: last.seq, at: Date.parse(last.recordedAt) }
        }
      } else await new Promise((r) => setTimeout(r, 50))
    }
    expect(escalated, 'an early incident to escalate').toBeDefined()
    const { incidentId, seq, at } = escalated!

    // the first wave runs to its end: every other incident reported by then reaches its scripted end
    const others = (await readAll())
      .filter((e) => e.type === 'incident.reported' && e.seq < seq)
      .map((e) => (e.payload as { incidentId: string }).incidentId)
      .filter((id) => id !== incidentId)
    expect(others.length).toBeGreaterThan(0)
    await expect
      .poll(
        async () => {
          const now = await incidents()
          return others.every((id) => ['recovered', 'closed'].includes(now.find((i) => i.incidentId === id)!.status))
        },
        { timeout: 40_000, interval: 250 },
      )
      .toBe(true)

    const log = await readAll()
    // a batch already on its way when the coordinator acted (collected within the last tick of 100 ms)
    // may still land; nothing the scenario scripted for later does
    const scripted = log.filter(
      (e) =>
        e.seq > seq &&
        Date.parse(e.recordedAt) > at + IN_FLIGHT_MS &&
        e.type === 'incident.updated' &&
        e.actor?.user === 'simulator' &&
        (e.payload as { incidentId: string }).incidentId === incidentId,
    )
    expect(scripted).toEqual([])
    // the scenario itself went on updating the incidents nobody took over
    expect(log.some((e) => e.seq > seq && e.type === 'incident.updated' && e.actor?.user === 'simulator')).toBe(true)
    const mine = (await incidents()).find((i) => i.incidentId === incidentId)!
    expect(mine).toMatchObject({ severity: 'critical' })
    expect(['recovered', 'closed']).not.toContain(mine.status)
  }, 90_000)
})

/**
 * `pnpm start` again on the same data folder: the demo continues its story where it stopped, so the
 * picture is the first run's, going on; nothing is told twice (before, the story began again as new
 * incidents beside the first run's, which stayed open where they stopped).
 */
describe('a demo started again on its data folder', () => {
  const env = {
    WATCHFLOOR_SIMULATOR: 'on',
    WATCHFLOOR_SIMULATOR_SPEED: '120',
    WATCHFLOOR_SIMULATOR_RATE: '0',
    WATCHFLOOR_SIMULATOR_SEED: '42',
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-demo-again-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  async function readAll(url: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = []
    let after = 0
    for (;;) {
      const { json: page } = await getJson<{ events: StoredEvent[]; next: number }>(
        `${url}/api/v1/events?after=${after}&limit=5000`,
        TOKENS.coordEeA,
      )
      events.push(...page.events)
      if (page.events.length === 0 || page.next === after) return events
      after = page.next
    }
  }
  const reports = (log: StoredEvent[]) =>
    log.filter((e) => e.type === 'incident.reported') as Extract<StoredEvent, { type: 'incident.reported' }>[]

  it('continues the story: the first run’s incidents go on under their ids, and none is reported again', async () => {
    const first = await startServerProcess({ dataDir, env })
    let before: StoredEvent[] = []
    try {
      await expect
        .poll(
          async () => {
            before = await readAll(first.url)
            return reports(before).length
          },
          { timeout: 30_000, interval: 200 },
        )
        .toBeGreaterThanOrEqual(3)
    } finally {
      await first.stop()
    }
    const opening = reports(before)[0]!
    const second = await startServerProcess({ dataDir, env })
    try {
      const firstHead = (await readAll(second.url)).at(-1)!.seq
      // the story goes on
      let log: StoredEvent[] = []
      await expect
        .poll(
          async () => {
            log = await readAll(second.url)
            return log.filter((e) => e.seq > firstHead).length
          },
          { timeout: 30_000, interval: 250 },
        )
        .toBeGreaterThan(20)
      const earlierIncidents = new Set(reports(log.filter((e) => e.seq <= firstHead)).map((e) => e.payload.incidentId))
      const after = log.filter((e) => e.seq > firstHead && e.actor?.user === 'simulator')
      // ... with the first run's incidents (their updates, under their ids) ...
      expect(
        after.some(
          (e) =>
            e.type !== 'incident.reported' &&
            earlierIncidents.has((e.payload as { incidentId?: string }).incidentId ?? ''),
        ),
      ).toBe(true)
      // ... and no incident reported twice: the opening one is there once
      expect(reports(log).filter((e) => e.payload.title === opening.payload.title)).toHaveLength(1)
      for (const e of reports(after)) expect(earlierIncidents.has(e.payload.incidentId)).toBe(false)
      // every batch it posted was taken: nothing posted again under a new time
      expect(second.output()).not.toContain('simulator post rejected')
      expect(new Set(log.map((e) => e.id)).size).toBe(log.length)
    } finally {
      await second.stop()
    }
  }, 120_000)

  it('a run stopped before it posted anything leaves the place where the run before it stopped', async () => {
    // real time, no background: the story registers the networks at once, then nothing for minutes
    const slow = { ...env, WATCHFLOOR_SIMULATOR_SPEED: '1' }
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-demo-quiet-'))
    const registered = async (url: string) => (await readAll(url)).filter((e) => e.type === 'network.registered').length
    try {
      const first = await startServerProcess({ dataDir: dir, env: slow })
      let networks = 0
      try {
        await expect
          .poll(
            async () => {
              networks = await registered(first.url)
              return networks
            },
            { timeout: 20_000, interval: 200 },
          )
          .toBeGreaterThan(20)
        await new Promise((r) => setTimeout(r, 500)) // every registration in
        networks = await registered(first.url)
      } finally {
        await first.stop()
      }
      // a second run: it continues, has nothing due yet, and is stopped before it posts
      const second = await startServerProcess({ dataDir: dir, env: slow })
      await new Promise((r) => setTimeout(r, 1500))
      expect(await registered(second.url)).toBe(networks)
      await second.stop()
      // a third: still after the first run's last event, never the story from its start again
      const third = await startServerProcess({ dataDir: dir, env: slow })
      try {
        await new Promise((r) => setTimeout(r, 1500))
        expect(await registered(third.url)).toBe(networks)
        expect(third.output()).not.toContain('simulator post rejected')
      } finally {
        await third.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
