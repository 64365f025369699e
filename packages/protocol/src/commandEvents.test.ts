import { describe, expect, it } from 'vitest'
import { COMMAND_IDS_DRAWN, commandEventIds } from './commandEvents.ts'

describe('commandEventId: the ids of a command with a commandId', () => {
  it('are UUIDs of version 8, one set per caller, the same whatever the case of the commandId', () => {
    const kadri = { userId: 'kadri', organisation: 'cert-ee' }
    const ids = commandEventIds('0f8fad5b-d9cb-469f-a165-70867728950e', kadri)
    expect(ids).toHaveLength(COMMAND_IDS_DRAWN)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(ids).size).toBe(COMMAND_IDS_DRAWN)
    expect(commandEventIds('0F8FAD5B-D9CB-469F-A165-70867728950E', kadri)).toEqual(ids)
    expect(
      commandEventIds('0f8fad5b-d9cb-469f-a165-70867728950e', { userId: 'kadri', organisation: 'cert-lv' }),
    ).not.toEqual(ids)
  })
})
