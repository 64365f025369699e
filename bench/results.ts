import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { root } from './lib.ts'

export type Figures = Record<string, number | number[] | string | boolean | null | Record<string, unknown>[]>

/** One benchmark in bench/results/latest.json. `ratio` = ours / baseline on the headline figure. */
export interface BenchEntry {
  name: string
  /** The figure `ratio` and `target` refer to. */
  headline: string
  figures: Figures
  baseline: { name: string; figures: Figures }
  ratio: number
  target: { figure: string; min?: number; max?: number; text: string }
  met: boolean
  environment?: Environment
}

export interface Environment {
  date: string
  node: string
  cores: number
  cpu: string
  /** Cores busy with other work just before this benchmark started (shared machine), from /proc/stat. */
  backgroundCores?: number | null
  /** The same, measured just after the benchmark ended (where the runner measured it). */
  backgroundCoresAfter?: number | null
}

export function environment(): Environment {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
  }
}

export const RESULTS_FILE = join(root, 'bench/results/latest.json')

/** Merge entries by name into bench/results/latest.json, keeping entries of other benchmarks. */
export function saveResults(entries: BenchEntry[]): void {
  let existing: BenchEntry[] = []
  if (existsSync(RESULTS_FILE)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(RESULTS_FILE, 'utf8'))
      if (Array.isArray(parsed)) existing = parsed as BenchEntry[]
    } catch {
      console.warn(`${RESULTS_FILE} is not valid JSON; starting it afresh`)
    }
  }
  const byName = new Map(existing.map((entry) => [entry.name, entry]))
  for (const entry of entries) byName.set(entry.name, entry)
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  const tmp = `${RESULTS_FILE}.tmp`
  writeFileSync(tmp, `${JSON.stringify([...byName.values()], null, 2)}\n`)
  renameSync(tmp, RESULTS_FILE)
}
