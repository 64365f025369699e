import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FeedOutActivity, FeedsOutReply } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, PRINCIPALS, post, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

const ADMIN = 'feeds-out-admin-token-012345'
/** cert-ee's liaison: another organisation than janis's (cert-lv). */
const LIAISON_EE = 'feeds-out-liaison-ee-0123456'
const TAXII = 'application/taxii+json;version=2.1'

async function pull(url: string, token: string, accept = TAXII) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept } })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function activityFor(base: string, token: string) {
  const response = await fetch(`${base}/api/v1/feeds/out`, { headers: { authorization: `Bearer ${token}` } })
  const body = (await response.json()) as unknown
  return { status: response.status, body, activity: response.ok ? FeedsOutReply.parse(body).activity : [] }
}

/** The objects of a TAXII page that count in the figures: no marking definition (docs/api.md). */
const counted = (objects: unknown) =>
  (objects as { type: string }[]).filter((o) => o.type !== 'marking-definition').length

const row = (activity: FeedOutActivity[], organisation: string, channel: string) =>
  activity.find((a) => a.organisation === organisation && a.channel === channel)

describe('feeds out: what partners pull, per organisation, shown to that organisation and to admins only', () => {
  let server: ServerProcess
  let dir: string
  let tokens: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-feeds-out-'))
    tokens = join(dir, 'tokens.json')
    writeFileSync(
      tokens,
      JSON.stringify([
        ...PRINCIPALS,
        { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] },
        { token: LIAISON_EE, user: 'liaison-ee', organisation: 'cert-ee', nation: 'EE', roles: ['liaison'] },
      ]),
    )
    mkdirSync(join(dir, 'data'))
    server = await startServerProcess({ dataDir: join(dir, 'data'), env: { WATCHFLOOR_TOKENS: tokens } })
    const reported = (id: string, title: string) =>
      event({
        type: 'incident.reported',
        payload: { incidentId: id, title, severity: 'high', category: 'malware', affectedNetworks: [] },
        marking: { tlp: 'GREEN' },
      } as never)
    expect(
      (await post(server.url, TOKENS.sensorEe, { events: [reported('o-1', 'One'), reported('o-2', 'Two')] })).status,
    ).toBe(201)
  })
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a partner’s pulls over TAXII and MISP, and its refused one, are counted for its organisation', async () => {
    // janis (cert-lv) pulls the TAXII objects, then the MISP manifest, then is refused (406)
    const objects = await pull(`${server.url}/taxii2/api/collections/all/objects/`, TOKENS.viewerLv)
    expect(objects.status).toBe(200)
    const served = counted(objects.json.objects)
    expect(served).toBeGreaterThan(2)
    const manifest = await pull(`${server.url}/misp/feed/manifest.json`, TOKENS.viewerLv, 'application/json')
    expect(manifest.status).toBe(200)
    const events = Object.keys(manifest.json).length
    expect(events).toBe(2)
    const refused = await pull(`${server.url}/taxii2/api/collections/all/objects/`, TOKENS.viewerLv, 'application/json')
    expect(refused.status).toBe(406)
    // a request without a valid token names no organisation: not counted anywhere
    expect((await pull(`${server.url}/taxii2/api/collections/`, 'not-a-token-0123456789')).status).toBe(401)
    // cert-ee's liaison pulls too: a row of its own
    expect((await pull(`${server.url}/taxii2/api/collections/`, LIAISON_EE)).status).toBe(200)

    // recorded once each answer is sent
    await expect
      .poll(async () => row((await activityFor(server.url, ADMIN)).activity, 'cert-lv', 'taxii')?.pulls, {
        timeout: 10_000,
      })
      .toBe(2)
    const { activity: all } = await activityFor(server.url, ADMIN)
    const taxii = row(all, 'cert-lv', 'taxii')!
    expect(taxii).toMatchObject({
      pulls: 2,
      failedPulls: 1,
      objectsServed: served,
      lastPullObjects: 0,
      lastError: { status: 406 },
    })
    expect(taxii.lastError!.message).toBe(`the Accept header must include ${TAXII}`)
    expect(Date.parse(taxii.lastSuccessAt!)).toBeLessThanOrEqual(Date.parse(taxii.lastError!.at))
    expect(taxii.lastPullAt).toBe(taxii.lastError!.at)
    await expect
      .poll(async () => row((await activityFor(server.url, ADMIN)).activity, 'cert-lv', 'misp'), { timeout: 10_000 })
      .toMatchObject({ pulls: 1, failedPulls: 0, objectsServed: 2, lastPullObjects: 2, lastError: null })
    await expect
      .poll(async () => row((await activityFor(server.url, ADMIN)).activity, 'cert-ee', 'taxii')?.pulls, {
        timeout: 10_000,
      })
      .toBe(1)
    // the admin's own reads of /api/v1 are no pulls; the unauthenticated one is nowhere
    expect((await activityFor(server.url, ADMIN)).activity.map((a) => a.organisation).sort()).toEqual([
      'cert-ee',
      'cert-lv',
      'cert-lv',
    ])

    // cert-lv's liaison sees its organisation's rows, nothing of cert-ee's
    const janis = await activityFor(server.url, TOKENS.viewerLv)
    expect(janis.status).toBe(200)
    expect(janis.activity.map((a) => `${a.organisation}/${a.channel}`)).toEqual(['cert-lv/misp', 'cert-lv/taxii'])
    expect(row(janis.activity, 'cert-lv', 'taxii')).toEqual(
      row((await activityFor(server.url, ADMIN)).activity, 'cert-lv', 'taxii'),
    )
    // cert-ee's liaison and coordinator: cert-ee's only, never cert-lv's counts
    for (const token of [LIAISON_EE, TOKENS.coordEeA]) {
      const other = await activityFor(server.url, token)
      expect(other.status).toBe(200)
      expect(other.activity.map((a) => `${a.organisation}/${a.channel}`)).toEqual(['cert-ee/taxii'])
      expect(JSON.stringify(other.body)).not.toContain('cert-lv')
    }
    // viewing as another organisation [V11]: what both may see
    const viewAs = (token: string, audience: string) =>
      fetch(`${server.url}/api/v1/feeds/out`, {
        headers: { authorization: `Bearer ${token}`, 'x-watchfloor-view-as': audience },
      }).then(async (r) => ({ status: r.status, reply: FeedsOutReply.parse(await r.json()) }))
    expect((await viewAs(ADMIN, 'organisation:cert-lv')).reply.activity.map((a) => a.organisation)).toEqual([
      'cert-lv',
      'cert-lv',
    ])
    expect((await viewAs(TOKENS.coordEeA, 'organisation:cert-lv')).reply.activity).toEqual([])
    // a role without a say in sharing, a display-less sensor: refused
    for (const token of [TOKENS.viewerEe, TOKENS.sensorEe]) {
      const refusedRead = await activityFor(server.url, token)
      expect(refusedRead.status).toBe(403)
      expect(refusedRead.body).toMatchObject({ error: { code: 'forbidden' } })
    }
  })

  it('counts no RED object: a named recipient’s pull tells its organisation nothing of what was addressed to it', async () => {
    const red = event({
      type: 'incident.reported',
      payload: {
        incidentId: 'o-red',
        title: 'For red-reader',
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      },
      marking: { tlp: 'RED', recipients: ['red-reader'] },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, red)).status).toBe(201)
    const objects = `${server.url}/taxii2/api/collections/all/objects/`
    const lastPull = async (pulls: number) => {
      await expect
        .poll(async () => row((await activityFor(server.url, ADMIN)).activity, 'cert-lv', 'taxii')?.pulls, {
          timeout: 10_000,
        })
        .toBe(pulls)
      return row((await activityFor(server.url, ADMIN)).activity, 'cert-lv', 'taxii')!.lastPullObjects
    }
    const before = row((await activityFor(server.url, ADMIN)).activity, 'cert-lv', 'taxii')!.pulls
    // red-reader (cert-lv) receives the RED incident and its marking; janis (cert-lv) does not
    const recipient = await pull(objects, TOKENS.redReader)
    const colleague = await pull(objects, TOKENS.viewerLv)
    expect(recipient.status).toBe(200)
    const servedToRecipient = (recipient.json.objects as unknown[]).length
    const servedToColleague = counted(colleague.json.objects)
    expect(servedToRecipient).toBeGreaterThan((colleague.json.objects as unknown[]).length)
    expect(await lastPull(before + 2)).toBe(servedToColleague)
    // the recipient's pull alone, counted the same
    await pull(objects, TOKENS.redReader)
    expect(await lastPull(before + 3)).toBe(servedToColleague)
  })

  it('is kept across a restart', async () => {
    const before = (await activityFor(server.url, ADMIN)).activity
    expect(before.length).toBe(3)
    await server.stop()
    server = await startServerProcess({ dataDir: join(dir, 'data'), env: { WATCHFLOOR_TOKENS: tokens } })
    expect((await activityFor(server.url, ADMIN)).activity).toEqual(before)
  })
})
