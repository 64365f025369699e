#!/usr/bin/env node
// `pnpm test`: every check and test suite, in order, always all of them; then one
// line totalling every suite: "N passed, N failed". Exits non-zero on any failure.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const tmp = mkdtempSync(join(tmpdir(), 'watchfloor-test-'))
const vitestJson = join(tmp, 'vitest.json')
const playwrightJson = join(tmp, 'playwright.json')
/** The first line of a failure's message, without colour codes, short enough for the summary. */
const firstLine = (message) =>
  String(message ?? 'no message')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are escape sequences
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .find((line) => line.trim() !== '')
    ?.trim()
    .slice(0, 300) ?? 'no message'
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
      const failures = report.testResults.flatMap((file) => {
        const where = relative(process.cwd(), file.name)
        const tests = file.assertionResults
          .filter((test) => test.status === 'failed')
          .map((test) => `${where} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`)
        // a file that failed outside any test (an import, a hook) has no failed test to name
        return tests.length === 0 && file.status === 'failed' ? [`${where}: ${firstLine(file.message)}`] : tests
      })
      return { passed: report.numPassedTests, failed: report.numFailedTests, failures }
    },
  },
  { name: 'console build (vite)', cmd: ['pnpm', '--filter', '@watchfloor/console', 'build'] },
  {
    name: 'end to end (playwright)',
    cmd: [bin('playwright'), 'test', '-c', 'e2e/playwright.config.ts', '--reporter=list,json'],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson, WATCHFLOOR_E2E_PORT: e2ePort },
    count: () => {
      const { stats, suites } = JSON.parse(readFileSync(playwrightJson, 'utf8'))
      const failures = []
      const walk = (suite, titles) => {
        for (const spec of suite.specs ?? []) {
          for (const test of spec.tests) {
            if (test.status !== 'unexpected') continue
            const error = test.results.at(-1)?.error?.message
            failures.push(`${spec.file}:${spec.line} › ${[...titles, spec.title].join(' › ')}: ${firstLine(error)}`)
          }
        }
        for (const child of suite.suites ?? []) walk(child, [...titles, child.title])
      }
      for (const suite of suites) walk(suite, [])
      return { passed: stats.expected + stats.flaky, failed: stats.unexpected, failures }
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
  // which tests failed, next to the totals, so the end of a long log names them
  for (const failure of counted.failures ?? []) summary.push(`     failed: ${failure}`)
}
rmSync(tmp, { recursive: true, force: true })
console.log(`\n${summary.join('\n')}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
