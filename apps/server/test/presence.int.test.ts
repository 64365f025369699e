import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PresenceMessage, ViewingAck } from '@watchfloor/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { event, getJson, post, type ServerProcess, startServerProcess, TOKENS, Watcher } from './harness.ts'

/**
 * Presence answers as the caller's own projection of the log does [D14]: an incident its owner
 * reported again under a narrower marking stays in the pictures of those who saw the first report,
 * so they may still view it and hear who else does; `viewing` an incident whose every report is
 * hidden answers exactly like one that does not exist. Checked on a real server, and again after a
 * restart that starts from the snapshots the stop saved.
 */
describe('presence follows the viewer’s own picture', () => {
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
    // pieter's picture holds the first report only; the whole log's latest report is hidden from him
    const held = (await incidentsOf(TOKENS.viewerNl)).map((incident) => incident.incidentId)
    expect(held).toContain('inc-narrowed')
    expect(held).not.toContain('inc-hidden')
    const pieter = await watcher(TOKENS.viewerNl)
    const kadri = await watcher(TOKENS.viewerEe)
    expect(await view(kadri.watcher, 'inc-narrowed')).toEqual({ ok: true })
    expect(await view(pieter.watcher, 'inc-narrowed')).toEqual({ ok: true })
    await pieter.watcher.waitFor(() =>
      pieter.presence.some(
        (message) =>
          message.incidentId === 'inc-narrowed' &&
          ['kadri', 'pieter'].every((user) => message.viewers.some((viewer) => viewer.user === user)),
      ),
    )
    // kadri sees both reports: he hears pieter too
    await kadri.watcher.waitFor(() =>
      kadri.presence.some(
        (message) =>
          message.incidentId === 'inc-narrowed' && message.viewers.some((viewer) => viewer.user === 'pieter'),
      ),
    )
    // every report hidden: the same refusal as for an incident that was never reported
    const hidden = await view(pieter.watcher, 'inc-hidden')
    const missing = await view(pieter.watcher, 'inc-missing')
    expect(hidden).toEqual({ ok: false, error: { code: 'not_found', message: 'no incident inc-hidden' } })
    expect(missing).toEqual({ ok: false, error: { code: 'not_found', message: 'no incident inc-missing' } })
    // nothing about the hidden incident reached pieter, though kadri views it
    expect(await view(kadri.watcher, 'inc-hidden')).toEqual({ ok: true })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(pieter.presence.filter((message) => message.incidentId === 'inc-hidden')).toEqual([])
    pieter.watcher.close()
    kadri.watcher.close()
  }

  it('an incident reported again under a narrower marking: those who saw the first report may view it', async () => {
    server = await startServerProcess({ dataDir })
    for (const events of [
      [report('inc-narrowed', { tlp: 'GREEN' })],
      [report('inc-narrowed', { tlp: 'AMBER+STRICT' })],
      [report('inc-hidden', { tlp: 'AMBER+STRICT' })],
    ])
      expect((await post(server.url, TOKENS.sensorEe, { events })).status).toBe(201)
    await check()
  })

  it('after a restart from the snapshots the stop saved, the same', async () => {
    await server!.stop()
    server = await startServerProcess({ dataDir })
    await check()
  })
})
