#!/usr/bin/env node
// `pnpm test`: every check and test suite, in order, always all of them; then one
// line totalling every suite: "N passed, N failed". Exits non-zero on any failure.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const tmp = mkdtempSync(join(tmpdir(), 'watchfloor-test-'))
const vitestJson = join(tmp, 'vitest.json')
const playwrightJson = join(tmp, 'playwright.json')
const bin = (name) => join(process.cwd(), 'node_modules/.bin', name)

/** A port nothing listens on now, so the end-to-end server never collides with another process. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}
const e2ePort = process.env.WATCHFLOOR_E2E_PORT ?? String(await freePort())

const steps = [
  { name: 'format and lint (biome)', cmd: [bin('biome'), 'check', '.'] },
  { name: 'types (tsc)', cmd: [bin('tsc'), '--noEmit', '-p', 'tsconfig.json'] },
  // the pure packages once more on their own: no DOM, no Node (see their tsconfig.json)
  { name: 'types, pure protocol (tsc)', cmd: [bin('tsc'), '--noEmit', '-p', 'packages/protocol/tsconfig.json'] },
  { name: 'types, pure core (tsc)', cmd: [bin('tsc'), '--noEmit', '-p', 'packages/core/tsconfig.json'] },
  { name: 'types, pure sharing (tsc)', cmd: [bin('tsc'), '--noEmit', '-p', 'packages/sharing/tsconfig.json'] },
  {
    name: 'unit and integration (vitest)',
    cmd: [bin('vitest'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`],
    count: () => {
      const report = JSON.parse(readFileSync(vitestJson, 'utf8'))
      return { passed: report.numPassedTests, failed: report.numFailedTests }
    },
  },
  { name: 'console build (vite)', cmd: ['pnpm', '--filter', '@watchfloor/console', 'build'] },
  {
    name: 'end to end (playwright)',
    cmd: [bin('playwright'), 'test', '-c', 'e2e/playwright.config.ts', '--reporter=list,json'],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson, WATCHFLOOR_E2E_PORT: e2ePort },
    count: () => {
      const { stats } = JSON.parse(readFileSync(playwrightJson, 'utf8'))
      return { passed: stats.expected + stats.flaky, failed: stats.unexpected }
    },
  },
]

let passed = 0
let failed = 0
const summary = []
for (const step of steps) {
  console.log(`\n=== ${step.name}`)
  const started = Date.now()
  const result = spawnSync(step.cmd[0], step.cmd.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ...step.env },
  })
  const ok = result.status === 0
  let counted = { passed: ok ? 1 : 0, failed: ok ? 0 : 1 }
  if (step.count) {
    try {
      counted = step.count()
      if (!ok && counted.failed === 0) counted.failed = 1 // the runner failed outside any test
    } catch {
      counted = { passed: 0, failed: 1 } // no report: the runner itself failed
    }
  }
  passed += counted.passed
  failed += counted.failed
  summary.push(
    `${ok ? 'ok  ' : 'FAIL'} ${step.name}: ${counted.passed} passed, ${counted.failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  )
}
rmSync(tmp, { recursive: true, force: true })
console.log(`\n${summary.join('\n')}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
