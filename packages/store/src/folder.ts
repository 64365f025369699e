import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/**
 * Make a folder and any missing parents, each with `mode`, one at a time. Node's own recursive
 * `mkdirSync` never returns for a path under a file system that refuses new entries with ENOENT
 * (`/proc/watchfloor`): it makes the parent again and again. Here every refusal is an error naming
 * the folder, and an existing path that is not a folder is ENOTDIR.
 */
export function makeFolder(dir: string, mode = 0o700): void {
  const path = resolve(dir)
  const missing: string[] = []
  for (let at = path; ; at = dirname(at)) {
    const kind = kindOf(at)
    if (kind === 'folder') break
    if (kind === 'other') throw Object.assign(new Error(`ENOTDIR: not a folder, mkdir '${at}'`), { code: 'ENOTDIR' })
    missing.push(at)
    if (dirname(at) === at) break
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder, { mode })
    } catch (error) {
      // made meanwhile by another process: as good as made here
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || kindOf(folder) !== 'folder') throw error
    }
  }
}

function kindOf(path: string): 'folder' | 'other' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'other'
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none'
    throw error
  }
}
