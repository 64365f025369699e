import { readFileSync } from 'node:fs'
import type { StoredEvent } from '@watchfloor/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { readRelease } from '../../../scripts/release.mjs'
import { buildServer, type CompiledServer, cleanUp, startCompiled } from './compiled.ts'
import { getJson, observations, post, TOKENS } from './harness.ts'

describe('the compiled server (pnpm build, then node apps/server/dist/main.js)', () => {
  const build = buildServer()
  let server: CompiledServer | undefined
  afterAll(async () => {
    await cleanUp(server)
    build.remove()
  })

  it('is one JavaScript file that imports no TypeScript and bundles the workspace packages', () => {
    const code = readFileSync(build.main, 'utf8')
    const imports = [...code.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!)
    expect(imports.length).toBeGreaterThan(0)
    expect(imports.filter((specifier) => specifier.endsWith('.ts') || specifier.startsWith('@watchfloor/'))).toEqual([])
    expect(imports.filter((specifier) => specifier.startsWith('.'))).toEqual([])
    // native and database drivers stay outside the bundle, loaded from node_modules
    expect(imports).toContain('better-sqlite3')
    expect(imports).toContain('pg')
    // and every package it loads at run time is a dependency of the server (none a devDependency)
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const packageOf = (specifier: string) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/')
    const undeclared = imports
      .filter((specifier) => !specifier.startsWith('node:'))
      .map(packageOf)
      .filter((name) => !(name in manifest.dependencies))
    expect(undeclared).toEqual([])
  })

  it('runs under plain node with no TypeScript loader: /readyz, then a REST write and read', async () => {
    server = await startCompiled(build.main)
    const pid = server.child.pid!
    // the process is `node <main.js>`: no --import / --loader / --require, no NODE_OPTIONS, no tsx
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    expect(argv).toEqual([process.execPath, build.main])
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    expect(environ.filter((entry) => entry.startsWith('NODE_OPTIONS='))).toEqual([])
    expect(argv.join(' ')).not.toMatch(/tsx/)

    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    // the version and commit were written into the bundle at build time (build.mjs), not looked up at run time
    const release = readRelease()
    expect(readFileSync(build.main, 'utf8')).toContain(
      `{ version: ${JSON.stringify(release.version)}, commit: ${JSON.stringify(release.commit)} }`,
    )
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject(release)

    const batch = observations(3)
    const posted = await post(server.url, TOKENS.sensorEe, { events: batch })
    expect(posted.status).toBe(201)
    const read = await getJson<{ events: StoredEvent[] }>(`${server.url}/api/v1/events?after=0`, TOKENS.viewerEe)
    expect(read.status).toBe(200)
    expect(read.json.events.map((e) => e.id)).toEqual(batch.map((e) => e.id))

    server.child.kill('SIGTERM')
    expect(await server.exited).toEqual({ code: 0, signal: null })
  })
})
