import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteEventStore } from './sqlite.ts'
import { LogInUseError } from './writer.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const logFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-writer-'))
  dirs.push(dir)
  return join(dir, 'events.sqlite')
}

describe('one writer per SQLite log', () => {
  it('a second writer is refused while the first holds the log, naming it; readers open beside it; closed, it is free again', async () => {
    const file = logFile()
    const first = new SqliteEventStore({ file, writer: true })
    let refused: unknown
    try {
      new SqliteEventStore({ file, writer: true })
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(LogInUseError)
    expect((refused as Error).message).toContain(file)
    const reader = new SqliteEventStore({ file })
    expect(await reader.head()).toBe(0)
    await reader.close()
    await first.close()
    const again = new SqliteEventStore({ file, writer: true })
    expect(await again.head()).toBe(0)
    await again.close()
  })

  it('a log that fails to open lets its claim go', () => {
    const file = logFile()
    // a folder where the database file should be: the claim is taken, then the open fails
    const blocked = join(file, '..', 'blocked.sqlite')
    mkdirSync(blocked)
    expect(() => new SqliteEventStore({ file: blocked, writer: true })).toThrow()
    expect(() => new SqliteEventStore({ file: blocked, writer: true })).not.toThrow(LogInUseError)
    // a file that is not a database: opened, then refused at its first read
    const garbage = join(file, '..', 'garbage.sqlite')
    writeFileSync(garbage, 'this is not a database, it is a note '.repeat(200))
    for (let i = 0; i < 2; i++)
      expect(() => new SqliteEventStore({ file: garbage, writer: true })).toThrow(/not a database/)
  })
})
