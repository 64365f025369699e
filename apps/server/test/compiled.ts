import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PRINCIPALS } from './harness.ts'

const root = new URL('../../../', import.meta.url).pathname
const serverDir = join(root, 'apps/server')

/**
 * Build the server with its build script (`pnpm --filter @watchfloor/server build`) into a folder
 * of its own under apps/server/dist (so its imports resolve from apps/server/node_modules, as in
 * production); returns the path of its main.js.
 */
export function buildServer(): { main: string; remove: () => void } {
  const outdir = join(serverDir, 'dist', `test-${randomUUID()}`)
  execFileSync(process.execPath, [join(serverDir, 'build.mjs'), '--outdir', outdir], { stdio: 'pipe' })
  return { main: join(outdir, 'main.js'), remove: () => rmSync(outdir, { recursive: true, force: true }) }
}

export interface CompiledServer {
  url: string
  dataDir: string
  child: ChildProcess
  output: () => string
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Run a built main.js with plain `node`: no `--import`, no loader, no NODE_OPTIONS; SQLite in a
 * fresh data folder, the harness's static tokens, no simulator, a free port.
 */
export async function startCompiled(
  main: string,
  env: Record<string, string> = {},
  /** An earlier server's data folder, to start again on its log (a fresh one by default). */
  dataDir: string = mkdtempSync(join(tmpdir(), 'watchfloor-compiled-')),
): Promise<CompiledServer> {
  const tokens = join(dataDir, 'tokens.json')
  writeFileSync(tokens, JSON.stringify(PRINCIPALS))
  const { NODE_OPTIONS: _options, ...parentEnv } = process.env
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: {
      ...parentEnv,
      WATCHFLOOR_PORT: '0',
      WATCHFLOOR_HOST: '127.0.0.1',
      WATCHFLOOR_DATA_DIR: dataDir,
      WATCHFLOOR_SIMULATOR: 'off',
      WATCHFLOOR_TOKENS: tokens,
      WATCHFLOOR_LOG_LEVEL: 'warn',
      WATCHFLOOR_CONSOLE_DIR: join(root, 'apps/console/dist'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => {
    output += chunk
  })
  child.stderr!.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000)
    child.stdout!.on('data', () => {
      const match = output.match(/listening on (http:\/\/\S+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${output}`))
    })
  })
  return { url, dataDir, child, output: () => output, exited }
}

/** Stop a server left running by a failed test, and remove its data. */
export async function cleanUp(server: CompiledServer | undefined): Promise<void> {
  if (!server) return
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
  await server.exited
  rmSync(server.dataDir, { recursive: true, force: true })
}
