import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeFolder } from './folder.ts'

describe('makeFolder', () => {
  const root = mkdtempSync(join(tmpdir(), 'watchfloor-folder-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('makes the folder and its missing parents, each 0700; an existing folder is left as it is', () => {
    const dir = join(root, 'a', 'b', 'c')
    makeFolder(dir)
    for (const folder of [join(root, 'a'), join(root, 'a', 'b'), dir]) expect(statSync(folder).mode & 0o777).toBe(0o700)
    makeFolder(dir)
    expect(statSync(dir).isDirectory()).toBe(true)
  })

  it('a file on the way is ENOTDIR; a file system that refuses new folders is an error, never a wait', () => {
    const file = join(root, 'file')
    writeFileSync(file, '')
    expect(() => makeFolder(join(file, 'data'))).toThrow(/ENOTDIR/)
    expect(() => makeFolder(file)).toThrow(/ENOTDIR/)
    expect(() => makeFolder('/proc/watchfloor-folder-test')).toThrow(/ENOENT/)
  })
})
