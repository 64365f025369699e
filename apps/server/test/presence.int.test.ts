import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PresenceMessage, ViewingAck } from '@watchfloor/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { event, getJson, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

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
    // cert-ee narrows it to itself
    expect(
      (await post(server!.url, TOKENS.sensorEe, { events: [report('inc-live', { tlp: 'AMBER+STRICT' })] })).status,
    ).toBe(201)
    await kadri.watcher.waitFor(() => {
      const last = kadri.presence.filter((message) => message.incidentId === 'inc-live').at(-1)
      return last !== undefined && last.viewers.map((viewer) => viewer.user).join() === 'kadri'
    })
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
