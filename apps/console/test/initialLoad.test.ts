import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/** The most JavaScript the console's first load may fetch, minified (bytes). */
const INITIAL_JS_LIMIT = 800_000

const root = new URL('../../../', import.meta.url).pathname
const consoleDir = join(root, 'apps/console')

interface ManifestChunk {
  file: string
  name?: string
  src?: string
  isEntry?: boolean
  imports?: string[]
  dynamicImports?: string[]
}

/** The entry chunk and every chunk it imports statically, transitively: what the first load runs. */
function initialChunks(manifest: Record<string, ManifestChunk>): ManifestChunk[] {
  const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry)
  expect(entry, 'an entry chunk in the manifest').toBeDefined()
  const seen = new Map<string, ManifestChunk>()
  const visit = (key: string) => {
    if (seen.has(key)) return
    const chunk = manifest[key]!
    seen.set(key, chunk)
    for (const next of chunk.imports ?? []) visit(next)
  }
  visit(entry![0])
  return [...seen.values()]
}

describe('the console first load (a production build with its manifest)', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'watchfloor-console-build-'))
  execFileSync(
    join(root, 'node_modules/.bin/vite'),
    ['build', '--config', join(consoleDir, 'vite.config.ts'), '--outDir', outDir, '--emptyOutDir', '--manifest'],
    // as `pnpm build` ships it: the test runner's NODE_ENV=test would bundle React's development build
    { cwd: consoleDir, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } },
  )
  const manifest = JSON.parse(readFileSync(join(outDir, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >
  const initial = initialChunks(manifest)
  const size = (file: string) => statSync(join(outDir, file)).size
  afterAll(() => rmSync(outDir, { recursive: true, force: true }))

  it(`fetches at most ${INITIAL_JS_LIMIT / 1000} KB of JavaScript: the entry chunk and its static imports`, () => {
    const files = initial.map((chunk) => chunk.file)
    const total = files.reduce((sum, file) => sum + size(file), 0)
    expect(
      total,
      `initial JS ${(total / 1000).toFixed(1)} KB: ${files.map((f) => `${f} ${(size(f) / 1000).toFixed(1)} KB`).join(', ')}`,
    ).toBeLessThanOrEqual(INITIAL_JS_LIMIT)
  })

  it('index.html loads exactly those chunks (one module script, the rest modulepreload), no inline script', () => {
    const html = readFileSync(join(outDir, 'index.html'), 'utf8')
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((m) => m[2]!.trim()).filter(Boolean), 'inline scripts (the CSP forbids them)').toEqual([])
    const loaded = [
      ...scripts.map((m) => m[1]!.match(/src="\/([^"]+)"/)?.[1]),
      ...[...html.matchAll(/<link rel="modulepreload"[^>]*href="\/([^"]+)"/g)].map((m) => m[1]),
    ]
    expect(loaded.sort()).toEqual(initial.map((chunk) => chunk.file).sort())
  })

  it('the map, the wall, the report, the handover, the Sharing and Access pages and replay load on demand', () => {
    // each is a chunk of its own (named after its module), reached only through a dynamic import
    // (with strictExecutionOrder the map's chunk is shared by the console and the wall, so it has no `src`)
    const initialFiles = new Set(initial.map((chunk) => chunk.file))
    // replay: its bar (ReplayBar) and its machinery (replay: the engine, the model, the window reads),
    // loaded when a replay starts (features/replay/startReplay.ts)
    for (const name of ['MapView', 'WallApp', 'Report', 'Handover', 'Sharing', 'Access', 'ReplayBar', 'replay']) {
      const key = Object.keys(manifest).find((k) => manifest[k]!.name === name && manifest[k]!.file.endsWith('.js'))
      expect(key, `a chunk named ${name}`).toBeDefined()
      expect(initialFiles.has(manifest[key!]!.file), `${name} is not in the first load`).toBe(false)
      const importers = Object.values(manifest).filter((chunk) => chunk.dynamicImports?.includes(key!))
      expect(importers.length, `${name} is imported on demand`).toBeGreaterThan(0)
    }
    // MapLibre comes with the map, not before it
    const initialCode = initial.map((chunk) => readFileSync(join(outDir, chunk.file), 'utf8')).join('\n')
    expect(initialCode).not.toContain('maplibre-gl-worker')
    // replay's bar and engine come with the first replay; the header's button, the bookmark list and
    // the late markers (features/replay/ReplayEntry.tsx) stay in the first load
    expect(initialCode).not.toContain('replay-playhead')
    expect(initialCode).not.toContain('Replay could not load')
    expect(initialCode).toContain('open-replay')
    expect(initialCode).toContain('bookmark-list')
    expect(initialCode).toContain('late-marker')
  })
})
