// The one lookup of the product's version and commit, for both sides: the server reads it at run
// time from source (apps/server/src/ops/release.ts) and its build injects it (apps/server/build.mjs);
// the console's build injects it (apps/console/vite.config.ts, read by apps/console/src/data/release.ts).
//
//   version: the root package.json's "version" (the product's)
//   commit:  `git rev-parse --short HEAD` when the checkout has a .git, else WATCHFLOOR_COMMIT, else "unknown"
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The checkout's root (this file is in scripts/). */
export const ROOT = new URL('..', import.meta.url).pathname

/**
 * @param {{ root?: string, env?: Record<string, string | undefined> }} [options]
 * @returns {{ version: string, commit: string }}
 */
export function readRelease({ root = ROOT, env = process.env } = {}) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return { version: typeof version === 'string' && version !== '' ? version : 'unknown', commit: commitOf(root, env) }
}

/**
 * @param {string} root
 * @param {Record<string, string | undefined>} env
 */
function commitOf(root, env) {
  if (existsSync(join(root, '.git'))) {
    try {
      const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim()
      if (/^[0-9a-f]{4,40}$/.test(commit)) return commit
    } catch {
      // no git on the machine, or not a repository after all: the variable, then "unknown"
    }
  }
  const given = env.WATCHFLOOR_COMMIT?.trim()
  return given ? given : 'unknown'
}
