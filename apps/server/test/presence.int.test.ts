import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PresenceMessage, ViewingAck } from '@watchfloor/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import {
  accountWithToken,
  event,
  getJson,
  post,
  type ServerProcess,
  startServerProcess,
  TOKENS,
  tokensWithAdmin,
  Watcher,
} from './harness.ts'

/**
 * Presence is of the incidents shared with the viewer now [C18]: an incident its owner reported
 * again under a narrower marking stays, frozen, in the pictures of those who saw the first report,
 * but they may no longer view it nor hear who does (`viewing` answers exactly as for an incident
 * that does not exist); one narrowed while they view it takes them out of its presence at once.
 * Machines take no part. Checked on a real server, and again after a restart that starts from the
 * snapshots the stop saved.
 */
describe('presence follows what is shared with the viewer now', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'watchfloor-presence-'))
  let server: ServerProcess | undefined
  const watchers: Watcher[] = []
  afterAll(async () => {
    for (const watcher of watchers) watcher.close()
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const report = (incidentId: string, marking: { tlp: string }) =>
    event({
      type: 'incident.reported',
      marking,
      payload: { incidentId, title: `Worm ${incidentId}`, severity: 'high', category: 'malware', affectedNetworks: [] },
    } as never)

  const watcher = async (token: string): Promise<{ watcher: Watcher; presence: PresenceMessage[] }> => {
    const w = new Watcher(server!.url, token)
    watchers.push(w)
    const presence: PresenceMessage[] = []
    w.socket.on('presence', (message: PresenceMessage) => presence.push(message))
    expect((await w.subscribe(0)).ok).toBe(true)
    return { watcher: w, presence }
  }
  const view = (w: Watcher, incidentId: string) =>
    w.socket.timeout(10_000).emitWithAck('viewing', { incidentId }) as Promise<ViewingAck>
  const incidentsOf = async (token: string) =>
    (await getJson<{ incidents: { incidentId: string; title: string }[] }>(`${server!.url}/api/v1/state`, token)).json
      .incidents

  /** What a viewer of ncsc-nl (pieter) gets, with kadri of cert-ee viewing the re-marked incident. */
  const check = async () => {
    // pieter's picture holds the first report only, frozen; the whole log's latest report is hidden from him
    const held = (await incidentsOf(TOKENS.viewerNl)).map((incident) => incident.incidentId)
    expect(held).toContain('inc-narrowed')
    expect(held).not.toContain('inc-hidden')
    const pieter = await watcher(TOKENS.viewerNl)
    const kadri = await watcher(TOKENS.viewerEe)
    expect(await view(kadri.watcher, 'inc-narrowed')).toEqual({ ok: true })
    // no longer shared with him: the same refusal as for an incident that was never reported [C18]
    const narrowed = await view(pieter.watcher, 'inc-narrowed')
    const hidden = await view(pieter.watcher, 'inc-hidden')
    const missing = await view(pieter.watcher, 'inc-missing')
    expect(narrowed).toEqual({ ok: false, error: { code: 'not_found', message: 'no incident inc-narrowed' } })
    expect(hidden).toEqual({ ok: false, error: { code: 'not_found', message: 'no incident inc-hidden' } })
    expect(missing).toEqual({ ok: false, error: { code: 'not_found', message: 'no incident inc-missing' } })
    // nothing about either reached pieter, though kadri views both
    expect(await view(kadri.watcher, 'inc-hidden')).toEqual({ ok: true })
    expect(await view(kadri.watcher, 'inc-narrowed')).toEqual({ ok: true })
    await kadri.watcher.waitFor(() =>
      kadri.presence.some(
        (message) => message.incidentId === 'inc-narrowed' && message.viewers.some((viewer) => viewer.user === 'kadri'),
      ),
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(pieter.presence.filter((message) => message.incidentId !== 'inc-shared')).toEqual([])
    // a new socket of his is told nothing of them either
    const again = await watcher(TOKENS.viewerNl)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(again.presence.filter((message) => message.incidentId !== 'inc-shared')).toEqual([])
    again.watcher.close()
    pieter.watcher.close()
    kadri.watcher.close()
  }

  it('an incident reported again under a narrower marking: those it no longer reaches may not view it, nor hear who does', async () => {
    server = await startServerProcess({ dataDir })
    for (const events of [
      [report('inc-narrowed', { tlp: 'GREEN' })],
      [report('inc-narrowed', { tlp: 'AMBER+STRICT' })],
      [report('inc-hidden', { tlp: 'AMBER+STRICT' })],
    ])
      expect((await post(server.url, TOKENS.sensorEe, { events })).status).toBe(201)
    await check()
  })

  it('narrowed while they view it: they leave its presence at once, and hear nothing more of it', async () => {
    expect((await post(server!.url, TOKENS.sensorEe, { events: [report('inc-live', { tlp: 'GREEN' })] })).status).toBe(
      201,
    )
    const pieter = await watcher(TOKENS.viewerNl)
    const kadri = await watcher(TOKENS.viewerEe)
    expect(await view(pieter.watcher, 'inc-live')).toEqual({ ok: true })
    expect(await view(kadri.watcher, 'inc-live')).toEqual({ ok: true })
    const both = (message: PresenceMessage) =>
      message.incidentId === 'inc-live' &&
      ['kadri', 'pieter'].every((user) => message.viewers.some((viewer) => viewer.user === user))
    await kadri.watcher.waitFor(() => kadri.presence.some(both))
    await pieter.watcher.waitFor(() => pieter.presence.some(both))
    const heard = pieter.presence.length
    // when kadri hears of the narrowing, and when that pieter left
    const narrowing = report('inc-live', { tlp: 'AMBER+STRICT' }) as { id: string }
    const arrived = { narrowing: 0, left: 0 }
    kadri.watcher.socket.on('events', ({ events }: { events: { id: string }[] }) => {
      if (events.some((e) => e.id === narrowing.id)) arrived.narrowing ||= performance.now()
    })
    kadri.watcher.socket.on('presence', (message: PresenceMessage) => {
      if (message.incidentId === 'inc-live' && message.viewers.map((viewer) => viewer.user).join() === 'kadri')
        arrived.left ||= performance.now()
    })
    // quiet for longer than the whole picture's periodic catch-up (a second), so only the narrowing brings it up to date
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    // cert-ee narrows it to itself
    expect((await post(server!.url, TOKENS.sensorEe, { events: [narrowing] })).status).toBe(201)
    await kadri.watcher.waitFor(() => arrived.narrowing > 0 && arrived.left > 0)
    // as the narrowing goes out, not at the next periodic catch-up (a second later)
    expect(arrived.left - arrived.narrowing).toBeLessThan(500)
    // another of cert-ee opens it: pieter hears nothing of it
    const coordinator = await watcher(TOKENS.coordEeA)
    expect(await view(coordinator.watcher, 'inc-live')).toEqual({ ok: true })
    await kadri.watcher.waitFor(() =>
      kadri.presence.some(
        (message) =>
          message.incidentId === 'inc-live' && message.viewers.map((viewer) => viewer.user).join() === 'kadri,coord-a',
      ),
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(pieter.presence.slice(heard)).toEqual([])
    expect(await view(pieter.watcher, 'inc-live')).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no incident inc-live' },
    })
    for (const w of [pieter, kadri, coordinator]) w.watcher.close()
  })

  it('machines take no part: a sensor may not view an incident, and hears no presence', async () => {
    expect(
      (await post(server!.url, TOKENS.sensorEe, { events: [report('inc-shared', { tlp: 'GREEN' })] })).status,
    ).toBe(201)
    const sensor = await watcher(TOKENS.sensorEe)
    const kadri = await watcher(TOKENS.viewerEe)
    expect(await view(sensor.watcher, 'inc-shared')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await view(kadri.watcher, 'inc-shared')).toEqual({ ok: true })
    await kadri.watcher.waitFor(() => kadri.presence.some((message) => message.incidentId === 'inc-shared'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(sensor.presence).toEqual([])
    for (const w of [sensor, kadri]) w.watcher.close()
  })

  it('after a restart from the snapshots the stop saved, the same', async () => {
    await server!.stop()
    server = await startServerProcess({ dataDir })
    await check()
  })
})

/**
 * Presence names a viewer by user id and organisation, as the events a person may see name their
 * actors; a display name only to people of the viewer's own organisation: another organisation's
 * directory of names is not shared (peopleDirectory.ts).
 */
describe('presence names another organisation’s people by user id only', () => {
  const ADMIN = 'presence-admin-token-0123456789'
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-presence-names-'))
  let server: ServerProcess | undefined
  const watchers: Watcher[] = []
  afterAll(async () => {
    for (const watcher of watchers) watcher.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const view = (w: Watcher, incidentId: string) =>
    w.socket.timeout(10_000).emitWithAck('viewing', { incidentId }) as Promise<ViewingAck>

  it('a display name reaches the viewer’s own organisation alone, live and in the greeting of a socket that connects', async () => {
    server = await startServerProcess({
      env: { WATCHFLOOR_TOKENS: tokensWithAdmin(dir, ADMIN), WATCHFLOOR_PASSWORD_COST: '12' },
    })
    const person = async (username: string, organisation: string, nation: string, displayName: string) => {
      const { secret } = await accountWithToken(server!.url, ADMIN, username, { organisation, nation, displayName })
      const w = new Watcher(server!.url, secret)
      watchers.push(w)
      const presence: PresenceMessage[] = []
      w.socket.on('presence', (message: PresenceMessage) => presence.push(message))
      expect((await w.subscribe(0)).ok).toBe(true)
      return { watcher: w, presence }
    }
    const report = event({
      type: 'incident.reported',
      marking: { tlp: 'GREEN' },
      payload: {
        incidentId: 'inc-named',
        title: 'Worm inc-named',
        severity: 'high',
        category: 'malware',
        affectedNetworks: [],
      },
    } as never)
    expect((await post(server.url, TOKENS.sensorEe, { events: [report] })).status).toBe(201)
    const tamm = await person('tamm', 'cert-ee', 'EE', 'Kadri Tamm')
    const kask = await person('kask', 'cert-ee', 'EE', 'Mari Kask')
    const vries = await person('vries', 'ncsc-nl', 'NL', 'Pieter de Vries')
    const last = (p: { presence: PresenceMessage[] }) => p.presence.filter((m) => m.incidentId === 'inc-named').at(-1)

    expect(await view(tamm.watcher, 'inc-named')).toEqual({ ok: true })
    expect(await view(vries.watcher, 'inc-named')).toEqual({ ok: true })
    const both = (p: { presence: PresenceMessage[] }) => last(p)?.viewers.length === 2
    for (const p of [tamm, kask, vries]) await p.watcher.waitFor(() => both(p))
    const sorted = (p: { presence: PresenceMessage[] }) =>
      [...last(p)!.viewers].sort((a, b) => a.user.localeCompare(b.user))
    // cert-ee hears its own person's name, and of ncsc-nl's a user id
    const toCertEe = [
      { user: 'tamm', organisation: 'cert-ee', displayName: 'Kadri Tamm' },
      { user: 'vries', organisation: 'ncsc-nl' },
    ]
    expect(sorted(tamm)).toEqual(toCertEe)
    expect(sorted(kask)).toEqual(toCertEe)
    // ncsc-nl hears its own person's name, and of cert-ee's a user id
    expect(sorted(vries)).toEqual([
      { user: 'tamm', organisation: 'cert-ee' },
      { user: 'vries', organisation: 'ncsc-nl', displayName: 'Pieter de Vries' },
    ])
    // a socket that connects now is told the same (its greeting)
    const late = new Watcher(server.url, TOKENS.viewerNl)
    watchers.push(late)
    const greeted: PresenceMessage[] = []
    late.socket.on('presence', (message: PresenceMessage) => greeted.push(message))
    expect((await late.subscribe(0)).ok).toBe(true)
    await late.waitFor(() => greeted.some((m) => m.incidentId === 'inc-named'))
    expect(JSON.stringify(greeted)).not.toContain('Kadri Tamm')
    expect(JSON.stringify(greeted)).toContain('Pieter de Vries')

    // a coordinator of cert-ee viewing as another audience [V11] hears what both may know: no
    // names at all; viewing as its own organisation, its own people's
    const { secret } = await accountWithToken(server.url, ADMIN, 'ots', {
      organisation: 'cert-ee',
      nation: 'EE',
      displayName: 'Mart Ots',
      roles: ['coordinator'],
    })
    const greetedAs = async (viewAs: string) => {
      const w = new Watcher(server!.url, { token: secret, viewAs })
      watchers.push(w)
      const heard: PresenceMessage[] = []
      w.socket.on('presence', (message: PresenceMessage) => heard.push(message))
      expect((await w.subscribe(0)).ok).toBe(true)
      await w.waitFor(() => heard.some((m) => m.incidentId === 'inc-named'))
      return [...heard.filter((m) => m.incidentId === 'inc-named').at(-1)!.viewers].sort((a, b) =>
        a.user.localeCompare(b.user),
      )
    }
    expect(await greetedAs('organisation:ncsc-nl')).toEqual([
      { user: 'tamm', organisation: 'cert-ee' },
      { user: 'vries', organisation: 'ncsc-nl' },
    ])
    expect(await greetedAs('organisation:cert-ee')).toEqual(toCertEe)
  })
})
