import { parseArgs } from 'node:util'
import { runSimulator } from './poster.ts'
import { isScenarioName, SCENARIO_NAMES } from './scenario.ts'

const USAGE = `Usage: pnpm simulate -- --token <token> [options]

Plays a seeded scenario of allied-network activity against a Watchfloor server.

Options:
  --scenario <name>     scenario to play (${SCENARIO_NAMES.join(', ')}; default outbreak)
  --rate <n>            background observations per second of scenario time (default 50)
  --speed <n>           scenario time runs n times faster than wall time (default 1)
  --url <url>           server base URL (default http://127.0.0.1:8080)
  --token <token>       bearer token of a sender (or set WATCHFLOOR_TOKEN)
  --seed <seed>         scenario seed (default 42)
  --duration <seconds>  stop after this many wall-clock seconds (default: run until Ctrl-C)
  --batch-max <n>       most events per POST (default 500)
  --start-time <iso>    scenario time zero (default: now)
  -h, --help            show this help`

function fail(message: string): never {
  process.stderr.write(`simulate: ${message}\n\n${USAGE}\n`)
  process.exit(2)
}

function numberOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}, got '${value}'`)
  return n
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv[0] === '--' ? argv.slice(1) : argv,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string', default: 'outbreak' },
        rate: { type: 'string' },
        speed: { type: 'string' },
        url: { type: 'string', default: 'http://127.0.0.1:8080' },
        token: { type: 'string' },
        seed: { type: 'string', default: '42' },
        duration: { type: 'string' },
        'batch-max': { type: 'string' },
        'start-time': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error))
  }
}

function formatScenarioTime(ms: number): string {
  const total = Math.floor(ms / 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`
}

async function main(): Promise<void> {
  const values = parse(process.argv.slice(2))
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const scenario = values.scenario
  if (!isScenarioName(scenario)) fail(`unknown scenario '${scenario}' (known: ${SCENARIO_NAMES.join(', ')})`)
  const token = values.token ?? process.env.WATCHFLOOR_TOKEN
  if (!token) fail('missing --token (a bearer token of a sender; or set WATCHFLOOR_TOKEN)')
  const rate = numberOption('rate', values.rate, 50, 0)
  const speed = numberOption('speed', values.speed, 1, Number.MIN_VALUE)
  const duration = values.duration === undefined ? undefined : numberOption('duration', values.duration, 0, 0)
  const batchMax = numberOption('batch-max', values['batch-max'], 500, 1)
  const seedText = values.seed
  const seed = /^-?\d+$/.test(seedText) ? Number(seedText) : seedText
  const startTime = values['start-time']
  if (startTime !== undefined && !Number.isFinite(Date.parse(startTime))) fail(`invalid --start-time '${startTime}'`)

  const controller = new AbortController()
  let interrupted = false
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130)
    interrupted = true
    process.stderr.write('\nsimulate: stopping (Ctrl-C again to force)\n')
    controller.abort()
  })
  const timer = duration === undefined ? undefined : setTimeout(() => controller.abort(), duration * 1000)

  let scenarioMs = 0
  let lastPosted = 0
  let posted = 0
  let batches = 0
  let lastTick = performance.now()
  const progress = setInterval(() => {
    const now = performance.now()
    const perSecond = ((posted - lastPosted) * 1000) / (now - lastTick)
    lastPosted = posted
    lastTick = now
    process.stdout.write(
      `simulate: ${perSecond.toFixed(0)} events/s, ${posted} posted in ${batches} batches, scenario time ${formatScenarioTime(scenarioMs)}\n`,
    )
  }, 1000)

  process.stdout.write(
    `simulate: scenario ${scenario}, seed ${seed}, rate ${rate}/s, speed x${speed}, posting to ${values.url}\n`,
  )
  try {
    const result = await runSimulator({
      url: values.url,
      token,
      seed,
      speed,
      rate,
      batchMax,
      signal: controller.signal,
      ...(startTime !== undefined ? { startTime } : {}),
      ...(scenario !== undefined ? { scenario } : {}),
      logger: {
        info: (m) => process.stdout.write(`simulate: ${m}\n`),
        warn: (m) => process.stderr.write(`simulate: ${m}\n`),
      },
      onError: (error) => process.stderr.write(`simulate: ${error.message} (batch skipped)\n`),
      onProgress: (p) => {
        posted = p.posted
        batches = p.batches
        scenarioMs = p.scenarioMs
      },
    })
    process.stdout.write(
      `simulate: stopped; ${result.posted} events posted in ${result.batches} batches` +
        (result.rejected > 0 ? `, ${result.rejected} rejected` : '') +
        '\n',
    )
  } finally {
    clearInterval(progress)
    if (timer) clearTimeout(timer)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`simulate: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
