import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from '@playwright/test'
import { E2E_PRINCIPALS } from './fixtures.ts'

const port = Number(process.env.WATCHFLOOR_E2E_PORT ?? 18_480)
// this file is read by the runner and again by each of its workers: one data folder for the run,
// made by the runner (the workers find it in their environment), removed by the teardown
process.env.WATCHFLOOR_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'watchfloor-e2e-'))
const dataDir = process.env.WATCHFLOOR_E2E_DATA_DIR
const tokens = join(dataDir, 'tokens.json')
writeFileSync(tokens, JSON.stringify(E2E_PRINCIPALS))
const root = new URL('..', import.meta.url).pathname

export default defineConfig({
  testDir: '.',
  testMatch: '*.e2e.ts',
  globalTeardown: './teardown.ts',
  outputDir: './artifacts/results',
  timeout: 60_000,
  workers: 1,
  retries: 0,
  reporter: 'list',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.WATCHFLOOR_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-gpu', '--disable-quic'],
    },
  },
  webServer: {
    command: `${join(root, 'node_modules/.bin/tsx')} ${join(root, 'apps/server/src/main.ts')}`,
    cwd: root,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    // the server shuts down on SIGTERM (closing the store); SIGKILL follows after 5 s
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      WATCHFLOOR_PORT: String(port),
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: dataDir,
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_LOG_LEVEL: 'warn',
      WATCHFLOOR_HEARTBEAT_MS: '1000',
    },
  },
})
