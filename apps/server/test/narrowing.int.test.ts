/**
 * [C18] An incident narrowed by its owner: the organisation it no longer reaches cannot go on
 * changing it, its tasks or its comments from the copy its picture still holds; and a task is
 * not given to a team its incident is not shared with. Against a real server process.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventInput, StoredEvent } from '@watchfloor/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  event,
  getJson,
  headOf,
  post,
  type ServerProcess,
  startServerProcess,
  TOKENS,
  tokensWithAdmin,
  Watcher,
} from './harness.ts'

const COORD_LV = 'coord-lv-token-0123456789ab'
const ADMIN = 'narrowing-admin-token-0123456'

type Reply = { status: number; json: Record<string, unknown> & { events?: StoredEvent[] } }

async function command(url: string, token: string, body: unknown): Promise<Reply> {
  const response = await fetch(`${url}/api/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Reply['json'] }
}

const report = (incidentId: string, marking: EventInput['marking'], severity = 'medium') =>
  event({
    type: 'incident.reported',
    marking,
    payload: { incidentId, title: `Incident ${incidentId}`, severity, category: 'malware', affectedNetworks: [] },
  } as never)

/** Whether an event's payload names the incident. */
const about = (e: StoredEvent, incidentId: string) => (e.payload as { incidentId?: string }).incidentId === incidentId

interface Picture {
  incidents: Record<
    string,
    {
      incidentId: string
      version: number
      status: string
      severity: string
      summary?: string
      acknowledgedBy?: string
      marking: EventInput['marking']
    }
  >
  tasks: Record<string, { taskId: string; version: number; status: string }>
}

describe('[C18] an incident narrowed away from an organisation', () => {
  let server: ServerProcess
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-narrowing-'))
    const tokens = tokensWithAdmin(dir, ADMIN, [
      { token: COORD_LV, user: 'coord-lv', organisation: 'cert-lv', nation: 'LV', roles: ['coordinator'] },
    ])
    server = await startServerProcess({ env: { WATCHFLOOR_TOKENS: tokens } })
  }, 60_000)

  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The caller's picture (`GET /api/v1/state`), its incidents and tasks by id. */
  const pictureOf = async (token: string): Promise<Picture> => {
    const { json } = await getJson<{ incidents: Picture['incidents'][string][]; tasks: Picture['tasks'][string][] }>(
      `${server.url}/api/v1/state`,
      token,
    )
    return {
      incidents: Object.fromEntries(json.incidents.map((i) => [i.incidentId, i])),
      tasks: Object.fromEntries(json.tasks.map((t) => [t.taskId, t])),
    }
  }

  it('refuses its commands as for a missing incident or task, and nothing of theirs enters the log', async () => {
    const shared = { tlp: 'AMBER' as const, releasableTo: ['cert-lv'] }
    expect((await post(server.url, TOKENS.sensorEe, { events: [report('nar-1', shared)] })).status).toBe(201)
    expect(
      (
        await post(server.url, TOKENS.sensorLv, {
          events: [report('nar-lv', { tlp: 'AMBER' })].map((e) => ({ ...e, source: { organisation: 'cert-lv' } })),
        })
      ).status,
    ).toBe(201)
    // while shared: cert-lv's coordinator works on it, a task is given to its team
    const task = await command(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'nar-1',
      title: 'Check the LV mirror',
      assignee: { kind: 'team', organisation: 'cert-lv' },
    })
    expect(task.status).toBe(200)
    const taskId = (task.json.events![0]!.payload as { taskId: string }).taskId
    let lv = await pictureOf(COORD_LV)
    expect(
      (
        await command(server.url, COORD_LV, {
          type: 'incident.set_status',
          incidentId: 'nar-1',
          status: 'triaged',
          expectedVersion: lv.incidents['nar-1']!.version,
        })
      ).status,
    ).toBe(200)

    // the owner narrows it to itself, then moves it on
    expect((await post(server.url, TOKENS.sensorEe, { events: [report('nar-1', { tlp: 'AMBER' })] })).status).toBe(201)
    const owner = await pictureOf(TOKENS.coordEeA)
    expect(
      (
        await command(server.url, TOKENS.coordEeA, {
          type: 'incident.set_status',
          incidentId: 'nar-1',
          status: 'contained',
          expectedVersion: owner.incidents['nar-1']!.version,
        })
      ).status,
    ).toBe(200)
    const head = await headOf(server.url, TOKENS.coordEeA)

    // cert-lv's picture still holds the incident as it last saw it, and its task
    lv = await pictureOf(COORD_LV)
    const stale = lv.incidents['nar-1']!
    expect(stale.status).toBe('triaged')
    const staleTask = lv.tasks[taskId]!
    expect(staleTask).toBeDefined()
    const missingIncident = await command(server.url, COORD_LV, {
      type: 'incident.set_status',
      incidentId: 'nar-none',
      status: 'recovered',
      expectedVersion: stale.version,
    })
    const missingTask = await command(server.url, COORD_LV, {
      type: 'task.complete',
      taskId: '00000000-0000-4000-8000-00000000abcd',
      expectedVersion: staleTask.version,
    })
    expect(missingIncident.status).toBe(404)
    const asMissing = (reply: Reply, id: string, missing: Reply, missingId: string) =>
      expect(JSON.stringify(reply.json).replaceAll(id, '<id>')).toBe(
        JSON.stringify(missing.json).replaceAll(missingId, '<id>'),
      )
    for (const body of [
      { type: 'incident.set_status', incidentId: 'nar-1', status: 'recovered', expectedVersion: stale.version },
      {
        type: 'incident.escalate',
        incidentId: 'nar-1',
        severity: 'critical',
        reason: 'worse',
        expectedVersion: stale.version,
      },
      { type: 'incident.acknowledge', incidentId: 'nar-1' },
      { type: 'comment.post', incidentId: 'nar-1', body: 'still on it' },
      { type: 'task.create', incidentId: 'nar-1', title: 'more' },
    ]) {
      const reply = await command(server.url, COORD_LV, body)
      expect(reply.status, `${body.type}: ${JSON.stringify(reply.json)}`).toBe(404)
      asMissing(reply, 'nar-1', missingIncident, 'nar-none')
    }
    // a link from its own incident to the one it no longer sees (a merge would close it for cert-lv)
    const link = await command(server.url, COORD_LV, {
      type: 'incident.link',
      incidentId: 'nar-lv',
      otherIncidentId: 'nar-1',
      relation: 'merged_into',
    })
    expect(link.status, JSON.stringify(link.json)).toBe(404)
    for (const body of [
      { type: 'task.complete', taskId, expectedVersion: staleTask.version },
      { type: 'task.accept', taskId },
    ]) {
      const reply = await command(server.url, COORD_LV, body)
      expect(reply.status, `${body.type}: ${JSON.stringify(reply.json)}`).toBe(404)
      asMissing(reply, taskId, missingTask, '00000000-0000-4000-8000-00000000abcd')
    }
    // nothing of cert-lv's entered the log, and the owner's picture is as the owner left it
    expect(await headOf(server.url, TOKENS.coordEeA)).toBe(head)
    const after = (await pictureOf(TOKENS.coordEeA)).incidents['nar-1']!
    expect(after.status).toBe('contained')
  })

  it("judges only the owner's incident: an organisation holding its own claim of a raced id keeps working on it", async () => {
    // two first reports of one id, each for its own organisation alone, posted at once: raw posts
    // are not serialised, so both may be stored; the whole picture keeps the first, and each
    // organisation's picture its own claim [R12]
    let raced: string | undefined
    for (let i = 0; i < 20 && raced === undefined; i++) {
      const id = `nar-race-${i}`
      const lvReport = { ...report(id, { tlp: 'AMBER' }), source: { organisation: 'cert-lv' } }
      const [ee, lv] = await Promise.all([
        post(server.url, TOKENS.sensorEe, { events: [report(id, { tlp: 'AMBER' })] }),
        post(server.url, TOKENS.sensorLv, { events: [lvReport] }),
      ])
      if (ee.status === 201 && lv.status === 201) raced = id
    }
    expect(raced, 'two first reports of one id both stored (a race) within 20 tries').toBeDefined()
    for (const token of [TOKENS.coordEeA, COORD_LV]) {
      const ack = await command(server.url, token, { type: 'incident.acknowledge', incidentId: raced })
      expect(ack.status, `${token}: ${JSON.stringify(ack.json)}`).toBe(200)
    }
  })

  it("a task for a team: judged on what the caller may know of it, never on another community's members", async () => {
    const made = await fetch(`${server.url}/api/v1/directory/communities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ id: 'nar-energy', name: 'Energy', members: ['ncsc-nl'] }),
    })
    expect(made.status).toBe(201)
    const energy = { tlp: 'AMBER' as const, releasableTo: ['nar-energy'] }
    expect((await post(server.url, TOKENS.sensorEe, { events: [report('nar-energy-1', energy)] })).status).toBe(201)
    // cert-ee is not in the community: whether a team is, is not its to learn from the answer
    for (const organisation of ['ncsc-nl', 'cert-lv']) {
      const reply = await command(server.url, TOKENS.coordEeA, {
        type: 'task.create',
        incidentId: 'nar-energy-1',
        title: `for ${organisation}`,
        assignee: { kind: 'team', organisation },
      })
      expect(reply.status, `${organisation}: ${JSON.stringify(reply.json)}`).toBe(200)
    }
    // a releasability naming an organisation: placed, so judged
    const lvOnly = { tlp: 'AMBER' as const, releasableTo: ['cert-lv'] }
    expect((await post(server.url, TOKENS.sensorEe, { events: [report('nar-lv-only', lvOnly)] })).status).toBe(201)
    const toNl = await command(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'nar-lv-only',
      title: 'for NL',
      assignee: { kind: 'team', organisation: 'ncsc-nl' },
    })
    expect(toNl.status).toBe(400)
  })

  it('refuses a task for a team its incident is not shared with, naming the field; accepts one it is', async () => {
    const own = { tlp: 'AMBER' as const }
    expect(
      (
        await post(server.url, TOKENS.sensorEe, {
          events: [report('nar-own', own), report('nar-green', { tlp: 'GREEN' })],
        })
      ).status,
    ).toBe(201)
    const forLv = await command(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'nar-own',
      title: 'for LV',
      assignee: { kind: 'team', organisation: 'cert-lv' },
    })
    expect(forLv.status).toBe(400)
    expect(forLv.json).toMatchObject({
      error: { code: 'validation', details: { issues: [{ path: 'assignee.organisation' }] } },
    })
    // and reassigning an existing task to such a team
    const mine = await command(server.url, TOKENS.coordEeA, {
      type: 'task.create',
      incidentId: 'nar-own',
      title: 'ours',
    })
    expect(mine.status).toBe(200)
    const taskId = (mine.json.events![0]!.payload as { taskId: string }).taskId
    const reassigned = await command(server.url, TOKENS.coordEeA, {
      type: 'task.assign',
      taskId,
      assignee: { kind: 'team', organisation: 'ncsc-nl' },
    })
    expect(reassigned.status).toBe(400)
    // a GREEN incident reaches every organisation: its tasks may go to any team
    for (const organisation of ['cert-lv', 'ncsc-nl'])
      expect(
        (
          await command(server.url, TOKENS.coordEeA, {
            type: 'task.create',
            incidentId: 'nar-green',
            title: `for ${organisation}`,
            assignee: { kind: 'team', organisation },
          })
        ).status,
      ).toBe(200)
  })

  it('[C20] the owner’s coordinator changes who sees it: the escalation, summary and status stay; a partner is refused', async () => {
    const shared = { tlp: 'AMBER' as const, releasableTo: ['cert-lv'] }
    const first = event({
      type: 'incident.reported',
      marking: shared,
      payload: {
        incidentId: 'mark-1',
        title: 'Wiper on the ministry',
        severity: 'medium',
        category: 'malware',
        summary: 'Disk wiper on two hosts',
        affectedNetworks: [],
      },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [first] })).status).toBe(201)
    const versionOf = async (token: string) => (await pictureOf(token)).incidents['mark-1']!.version
    // while shared, both organisations work on it
    const worked = [
      [COORD_LV, { type: 'incident.acknowledge', incidentId: 'mark-1' }],
      [TOKENS.coordEeA, { type: 'incident.escalate', incidentId: 'mark-1', severity: 'critical', reason: 'spreading' }],
      [TOKENS.coordEeA, { type: 'incident.set_status', incidentId: 'mark-1', status: 'contained' }],
    ] as const
    for (const [token, body] of worked) expect((await command(server.url, token, body)).status).toBe(200)
    const setMarking = (marking: unknown, expectedVersion?: number, commandId?: string) => ({
      type: 'incident.set_marking',
      incidentId: 'mark-1',
      marking,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      ...(commandId === undefined ? {} : { commandId }),
    })

    // a partner it is shared with may not change who sees it; nor may the owner's watch officer
    const partner = await command(server.url, COORD_LV, setMarking({ tlp: 'AMBER' }, await versionOf(COORD_LV)))
    expect(partner.status).toBe(403)
    expect(partner.json).toMatchObject({ error: { code: 'forbidden', details: { rule: 'C20' } } })
    const officer = await command(server.url, TOKENS.viewerEe, setMarking({ tlp: 'AMBER' }))
    expect(officer.status).toBe(403)
    expect(officer.json).toMatchObject({ error: { code: 'forbidden', details: { rule: 'C2' } } })
    // a stale version: 409 with the incident as it is; the same marking again: 409
    const version = await versionOf(TOKENS.coordEeA)
    const stale = await command(server.url, TOKENS.coordEeA, setMarking({ tlp: 'AMBER' }, version - 1))
    expect(stale.status).toBe(409)
    expect(stale.json).toMatchObject({ error: { details: { rule: 'C3' } }, current: { version } })
    const same = await command(server.url, TOKENS.coordEeA, setMarking({ tlp: 'AMBER', releasableTo: ['cert-lv'] }))
    expect(same.status).toBe(409)
    expect(same.json).toMatchObject({ error: { details: { rule: 'C20' } } })

    // live: ncsc-nl cannot see it yet, cert-lv can
    const nl = new Watcher(server.url, TOKENS.viewerNl)
    const lv = new Watcher(server.url, TOKENS.viewerLv)
    try {
      for (const [watcher, token] of [
        [nl, TOKENS.viewerNl],
        [lv, TOKENS.viewerLv],
      ] as const)
        expect((await watcher.subscribe(await headOf(server.url, token))).ok).toBe(true)
      expect((await pictureOf(TOKENS.viewerNl)).incidents['mark-1']).toBeUndefined()

      // the owner narrows it to itself: one report, the incident otherwise as it stood
      const narrowed = await command(server.url, TOKENS.coordEeA, setMarking({ tlp: 'AMBER' }, version))
      expect(narrowed.status, JSON.stringify(narrowed.json)).toBe(200)
      expect(narrowed.json.version).toBe(version + 1)
      expect(narrowed.json.events!.map((e) => [e.type, e.source.organisation, e.actor?.user])).toEqual([
        ['incident.reported', 'cert-ee', 'coord-a'],
      ])
      const owned = (await pictureOf(TOKENS.coordEeA)).incidents['mark-1']!
      expect(owned).toMatchObject({
        severity: 'critical',
        summary: 'Disk wiper on two hosts',
        status: 'contained',
        acknowledgedBy: 'coord-lv',
        version: version + 1,
        marking: { tlp: 'AMBER' },
      })
      // [C18] cert-lv's copy is cut off: its commands are as for a missing incident, set_marking too
      for (const body of [
        { type: 'incident.set_status', incidentId: 'mark-1', status: 'recovered' },
        setMarking({ tlp: 'GREEN' }),
      ]) {
        const reply = await command(server.url, COORD_LV, body)
        expect(reply.status, `${body.type}: ${JSON.stringify(reply.json)}`).toBe(404)
        expect(reply.json).toMatchObject({ error: { code: 'not_found', message: 'no incident mark-1' } })
      }

      // widened to ncsc-nl (with a retry of the same action): ncsc-nl now sees it as it stands, live and in REST
      const commandId = '6f1d3c6e-56a4-4d4b-9d7e-0d6a3f3a9b21'
      const widen = { tlp: 'AMBER', releasableTo: ['ncsc-nl'], pap: 'GREEN' }
      const widened = await command(server.url, TOKENS.coordEeA, setMarking(widen, version + 1, commandId))
      expect(widened.status, JSON.stringify(widened.json)).toBe(200)
      const head = await headOf(server.url, TOKENS.coordEeA)
      const retried = await command(server.url, TOKENS.coordEeA, setMarking(widen, version + 1, commandId))
      expect(retried.status).toBe(200)
      expect(retried.json.events!.map((e) => e.seq)).toEqual(widened.json.events!.map((e) => e.seq))
      expect(await headOf(server.url, TOKENS.coordEeA)).toBe(head)
      // [R15] as it stands, its status too (not `new`)
      const seen = (await pictureOf(TOKENS.viewerNl)).incidents['mark-1']
      expect(seen).toMatchObject({
        severity: 'critical',
        summary: 'Disk wiper on two hosts',
        status: 'contained',
        marking: widen,
      })
      await nl.waitFor(() => nl.events.some((e) => about(e, 'mark-1')))
      expect(nl.events.filter((e) => about(e, 'mark-1')).map((e) => e.seq)).toEqual(
        widened.json.events!.map((e) => e.seq),
      )
      // cert-lv received neither report: up to a later event for everyone, nothing of it since it was cut off
      expect(
        (await post(server.url, TOKENS.sensorEe, { events: [report('mark-after', { tlp: 'GREEN' })] })).status,
      ).toBe(201)
      await lv.waitFor(() => lv.events.some((e) => about(e, 'mark-after')))
      expect(lv.events.filter((e) => about(e, 'mark-1'))).toEqual([])
    } finally {
      nl.close()
      lv.close()
    }
  })
  it('[R15] a marking change keeps, for those who hold it, a RED update its author could not see', async () => {
    const shared = { tlp: 'AMBER' as const, releasableTo: ['cert-lv'] }
    expect((await post(server.url, TOKENS.sensorEe, { events: [report('mark-red', shared)] })).status).toBe(201)
    const update = event({
      type: 'incident.updated',
      marking: { tlp: 'RED', recipients: ['kadri', 'janis'] },
      payload: { incidentId: 'mark-red', severity: 'critical', summary: 'Wiper found on the ministry' },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [update] })).status).toBe(201)
    // coord-a is no recipient: its picture holds the report alone
    expect((await pictureOf(TOKENS.coordEeA)).incidents['mark-red']).toMatchObject({ severity: 'medium' })
    const widen = { tlp: 'AMBER', releasableTo: ['cert-lv', 'ncsc-nl'] }
    const widened = await command(server.url, TOKENS.coordEeA, {
      type: 'incident.set_marking',
      incidentId: 'mark-red',
      marking: widen,
    })
    expect(widened.status, JSON.stringify(widened.json)).toBe(200)
    // the RED update's recipients keep what it told them, under the new marking
    for (const token of [TOKENS.viewerEe, TOKENS.viewerLv])
      expect((await pictureOf(token)).incidents['mark-red']).toMatchObject({
        severity: 'critical',
        summary: 'Wiper found on the ministry',
        marking: widen,
      })
    // the organisation it newly reaches gets it as coord-a stated it, nothing of the RED update
    const nl = (await pictureOf(TOKENS.viewerNl)).incidents['mark-red']!
    expect(nl).toMatchObject({ severity: 'medium', status: 'new', marking: widen })
    expect(nl.summary).toBeUndefined()
  })
  it('[R15] an organisation cut off and reached again takes what was set meanwhile; a raw restatement is refused', async () => {
    const shared = { tlp: 'AMBER' as const, releasableTo: ['cert-lv'] }
    expect((await post(server.url, TOKENS.sensorEe, { events: [report('mark-cut', shared)] })).status).toBe(201)
    const steps = [
      { type: 'incident.set_marking', incidentId: 'mark-cut', marking: { tlp: 'AMBER' } },
      { type: 'incident.escalate', incidentId: 'mark-cut', severity: 'critical', reason: 'spreading' },
      { type: 'incident.set_status', incidentId: 'mark-cut', status: 'contained' },
      {
        type: 'incident.set_marking',
        incidentId: 'mark-cut',
        marking: { tlp: 'AMBER', releasableTo: ['cert-lv', 'ncsc-nl'] },
      },
    ]
    for (const body of steps) {
      const reply = await command(server.url, TOKENS.coordEeA, body)
      expect(reply.status, `${body.type}: ${JSON.stringify(reply.json)}`).toBe(200)
    }
    // cert-lv held the copy it had before it was cut off: it now holds the incident as it stands
    const lv = (await pictureOf(COORD_LV)).incidents['mark-cut']!
    expect(lv).toMatchObject({ severity: 'critical', status: 'contained' })
    // so its coordinator's stale "escalation" to high is what it is: no escalation (C7), nothing lowered
    const stale = await command(server.url, COORD_LV, {
      type: 'incident.escalate',
      incidentId: 'mark-cut',
      severity: 'high',
      reason: 'from the old copy',
      expectedVersion: lv.version,
    })
    expect(stale.status, JSON.stringify(stale.json)).toBe(409)
    expect(stale.json).toMatchObject({ error: { details: { rule: 'C7' } } })
    expect((await pictureOf(TOKENS.coordEeA)).incidents['mark-cut']).toMatchObject({ severity: 'critical' })

    // a restatement says when each field was set in its author's picture: only the command writes one
    const head = await headOf(server.url, TOKENS.sensorEe)
    const raw = event({
      type: 'incident.reported',
      marking: { tlp: 'GREEN' },
      payload: {
        incidentId: 'mark-cut',
        title: 'Benign scan',
        severity: 'low',
        category: 'scan',
        affectedNetworks: [],
        restated: {
          status: 'closed',
          setAt: { title: 99, severity: 99, category: 99, summary: 99, networks: 99, attackSource: 99, status: 99 },
        },
      },
    } as never)
    const refused = await post(server.url, TOKENS.sensorEe, { events: [raw] })
    expect(refused.status).toBe(403)
    expect(JSON.stringify(refused.json)).toContain('A4')
    expect(JSON.stringify(refused.json)).toContain('restated')
    expect(await headOf(server.url, TOKENS.sensorEe)).toBe(head)
  })
})
