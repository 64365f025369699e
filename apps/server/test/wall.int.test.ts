import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, PRINCIPALS, type ServerProcess, startServerProcess, TOKENS } from './harness.ts'

const ADMIN = 'static-admin-token-wall-0123456'

describe('wall presets', () => {
  let server: ServerProcess
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'watchfloor-wall-'))
    const presets = join(dir, 'presets.json')
    writeFileSync(
      presets,
      JSON.stringify([
        { name: 'south', title: 'Southern flank', region: { lng: 20, lat: 42, zoom: 4.5 }, rotateSeconds: 15 },
        { name: 'baltic', title: 'Baltic, replaced', filters: { organisations: ['EE'] } },
      ]),
    )
    const tokens = join(dir, 'tokens.json')
    const admin = { token: ADMIN, user: 'root', organisation: 'alliance', nation: 'ALLIANCE', roles: ['admin'] }
    writeFileSync(tokens, JSON.stringify([...PRINCIPALS, admin]))
    server = await startServerProcess({ env: { WATCHFLOOR_WALL_PRESETS: presets, WATCHFLOOR_TOKENS: tokens } })
  })

  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('lists the built-in presets and those of WATCHFLOOR_WALL_PRESETS (which replace by name)', async () => {
    const { status, json } = await getJson<{ presets: { name: string; title?: string }[] }>(
      `${server.url}/api/v1/wall/presets`,
      TOKENS.viewerEe,
    )
    expect(status).toBe(200)
    expect(json.presets.map((p) => p.name).sort()).toEqual(['baltic', 'critical', 'overview', 'south'])
    expect(json.presets.find((p) => p.name === 'baltic')?.title).toBe('Baltic, replaced')
    const one = await getJson<{ name: string; rotateSeconds: number }>(
      `${server.url}/api/v1/wall/presets/south`,
      TOKENS.viewerEe,
    )
    expect(one.json).toMatchObject({ name: 'south', rotateSeconds: 15 })
  })

  it('needs a caller, and answers 404 for an unknown preset', async () => {
    expect((await getJson(`${server.url}/api/v1/wall/presets`, null)).status).toBe(401)
    const missing = await getJson<{ error: { code: string } }>(
      `${server.url}/api/v1/wall/presets/nowhere`,
      TOKENS.viewerEe,
    )
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe('not_found')
  })

  it('holds a display token to its preset', async () => {
    const made = await fetch(`${server.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        label: 'south wall',
        kind: 'display',
        service: { user: 'wall-south', organisation: 'cert-ee', nation: 'EE', roles: ['watch_officer'] },
        preset: 'south',
      }),
    })
    expect(made.status).toBe(201)
    const { secret } = (await made.json()) as { secret: string }
    const session = await getJson<{ kind: string; preset: string }>(`${server.url}/api/v1/session`, secret)
    expect(session.json).toMatchObject({ kind: 'display', preset: 'south' })
    const list = await getJson<{ presets: { name: string }[] }>(`${server.url}/api/v1/wall/presets`, secret)
    expect(list.json.presets.map((p) => p.name)).toEqual(['south'])
    expect((await getJson(`${server.url}/api/v1/wall/presets/south`, secret)).status).toBe(200)
    const other = await getJson<{ error: { code: string } }>(`${server.url}/api/v1/wall/presets/overview`, secret)
    expect(other.status).toBe(403)
    expect(other.json.error.code).toBe('forbidden')
  })
})

describe('a bad presets file', () => {
  it('stops the server at start with a message naming the variable and the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-wall-bad-'))
    const presets = join(dir, 'presets.json')
    writeFileSync(presets, JSON.stringify([{ name: 'Bad Name', rotateSeconds: 1 }]))
    try {
      await expect(startServerProcess({ env: { WATCHFLOOR_WALL_PRESETS: presets } })).rejects.toThrow(
        /WATCHFLOOR_WALL_PRESETS: .*presets\.json is not a valid preset list: 0\.name: .*0\.rotateSeconds/s,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
