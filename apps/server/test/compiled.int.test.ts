import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '@watchfloor/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { readRelease } from '../../../scripts/release.mjs'
import { buildServer, type CompiledServer, cleanUp, startCompiled } from './compiled.ts'
import { getJson, observations, PRINCIPALS, post, TOKENS } from './harness.ts'

const root = new URL('../../../', import.meta.url).pathname

/** The processes whose command line names `file` (the server a script started, wherever it was re-parented). */
function processesRunning(file: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(file)) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

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

  it('SIGTERM to `pnpm start:prod` or `pnpm start` reaches the server: it stops, and none is left running', async () => {
    // the root package.json's scripts as they are, run by pnpm in a folder of their own, on this
    // build (and `pnpm build` left out of `start`: the build is this one)
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      packageManager: string
      scripts: Record<string, string>
    }
    const script = (name: string) => manifest.scripts[name]!.replace('apps/server/dist/main.js', build.main)
    expect(manifest.scripts.start).toMatch(/^pnpm build && /)
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-scripts-'))
    const tokens = join(dir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify(PRINCIPALS))
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'watchfloor-scripts',
        private: true,
        packageManager: manifest.packageManager,
        scripts: { 'start:prod': script('start:prod'), start: script('start').replace(/^pnpm build && /, '') },
      }),
    )
    const { NODE_OPTIONS: _options, ...parentEnv } = process.env
    try {
      for (const name of ['start:prod', 'start']) {
        const pnpm = spawn('pnpm', ['run', name], {
          cwd: dir,
          env: {
            ...parentEnv,
            WATCHFLOOR_PORT: '0',
            WATCHFLOOR_HOST: '127.0.0.1',
            WATCHFLOOR_DATA_DIR: join(dir, name.replace(':', '-')),
            WATCHFLOOR_SIMULATOR: 'off',
            WATCHFLOOR_TOKENS: tokens,
            WATCHFLOOR_LOG_LEVEL: 'info',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let output = ''
        pnpm.stdout.on('data', (chunk) => {
          output += chunk
        })
        pnpm.stderr.on('data', (chunk) => {
          output += chunk
        })
        // pnpm's own exit: its output closes only once every process writing it (the server) is gone
        const exited = new Promise<void>((resolve) => pnpm.once('exit', () => resolve()))
        const closed = new Promise<void>((resolve) => pnpm.once('close', () => resolve()))
        const deadline = Date.now() + 30_000
        while (!/listening on http:\/\/\S+/.test(output)) {
          if (Date.now() > deadline || pnpm.exitCode !== null) throw new Error(`${name} did not start:\n${output}`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        const url = output.match(/listening on (http:\/\/\S+)/)![1]!
        expect((await fetch(`${url}/healthz`)).status).toBe(200)
        expect(processesRunning(build.main)).toHaveLength(1)
        // what a process manager does to the process it started
        pnpm.kill('SIGTERM')
        await exited
        const stopped = Date.now() + 5_000
        while (processesRunning(build.main).length > 0 && Date.now() < stopped)
          await new Promise((resolve) => setTimeout(resolve, 50))
        expect(processesRunning(build.main), `${name}: a server left running`).toEqual([])
        await expect(fetch(`${url}/healthz`)).rejects.toThrow()
        // a graceful stop, as SIGTERM to the server itself makes it (docs/deploy.md)
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))])
        expect(output, name).toMatch(/"signal":"SIGTERM".*"msg":"stopped"/)
      }
    } finally {
      for (const pid of processesRunning(build.main)) process.kill(pid, 'SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
