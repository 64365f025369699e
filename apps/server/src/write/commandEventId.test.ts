import { createHash } from 'node:crypto'
import { commandEventId } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'

/** The derivation as the server made it before it moved to protocol (Node's own SHA-256). */
function nodeDerived(commandId: string, caller: { userId: string; organisation: string }, index: number): string {
  const input = JSON.stringify([
    'watchfloor.command',
    commandId.toLowerCase(),
    caller.organisation,
    caller.userId,
    index,
  ])
  const bytes = createHash('sha256').update(input).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

describe('the ids of a command with a commandId (protocol commandEventId, shared with the console)', () => {
  it('are those the log already holds: the same as Node’s SHA-256 gives, for any caller and text', () => {
    const callers = [
      { userId: 'kadri', organisation: 'cert-ee' },
      { userId: 'jānis', organisation: 'cert-lv' },
      { userId: '用户', organisation: 'org "quoted" \\ ∑' },
    ]
    for (const caller of callers)
      for (const commandId of ['0F8FAD5B-D9CB-469F-A165-70867728950E', '7c9e6679-7425-40de-944b-e07fc1f90ae7'])
        for (let index = 0; index < 6; index++)
          expect(commandEventId(commandId, caller, index)).toBe(nodeDerived(commandId, caller, index))
  })
})
