import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, readRelease } from '../../../../scripts/release.mjs'
import { RELEASE } from './release.ts'

describe('the version and commit lookup (scripts/release.mjs)', () => {
  const dirs: string[] = []
  const checkout = (version: unknown, withGit: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'watchfloor-release-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'watchfloor', version }))
    if (withGit) mkdirSync(join(dir, '.git'))
    return dir
  }
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it("in this checkout: the root package.json's version and git's short commit, whatever WATCHFLOOR_COMMIT says", () => {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    expect(readRelease({ env: { WATCHFLOOR_COMMIT: 'elsewhere' } })).toEqual({ version: '0.1.0', commit })
    // the server's one reading of it, running from source
    expect(RELEASE).toEqual({ version: '0.1.0', commit })
  })

  it('without a .git: WATCHFLOOR_COMMIT, else "unknown"', () => {
    const dir = checkout('2.3.4', false)
    expect(readRelease({ root: dir, env: { WATCHFLOOR_COMMIT: ' 1a2b3c4 ' } })).toEqual({
      version: '2.3.4',
      commit: '1a2b3c4',
    })
    expect(readRelease({ root: dir, env: {} })).toEqual({ version: '2.3.4', commit: 'unknown' })
    expect(readRelease({ root: dir, env: { WATCHFLOOR_COMMIT: '' } }).commit).toBe('unknown')
  })

  it('a .git that git cannot read falls back the same way; no version is "unknown"', () => {
    const dir = checkout(undefined, true)
    expect(readRelease({ root: dir, env: { WATCHFLOOR_COMMIT: 'abc1234' } })).toEqual({
      version: 'unknown',
      commit: 'abc1234',
    })
  })
})
