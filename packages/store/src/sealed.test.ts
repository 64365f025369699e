import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sealerOf } from './sealed.ts'

describe('sealer', () => {
  const sealer = sealerOf(randomBytes(32))

  it('opens what it sealed for the same context, and nothing of the text shows', () => {
    const text = JSON.stringify({ incidents: { 'inc-secret': [{ user: 'kadri' }] } })
    const sealed = sealer.seal('channel-a', text)
    expect(sealed).not.toContain('inc-secret')
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('kadri')
    expect(sealer.open('channel-a', sealed)).toBe(text)
    // a fresh nonce each time
    expect(sealer.seal('channel-a', text)).not.toBe(sealed)
  })

  it('refuses another context, another key, an altered or short payload, and cleartext', () => {
    const sealed = sealer.seal('channel-a', 'hello')
    expect(sealer.open('channel-b', sealed)).toBeNull()
    expect(sealerOf(randomBytes(32)).open('channel-a', sealed)).toBeNull()
    const bytes = Buffer.from(sealed, 'base64')
    bytes[bytes.length - 1]! ^= 1
    expect(sealer.open('channel-a', bytes.toString('base64'))).toBeNull()
    expect(sealer.open('channel-a', 'aGVsbG8=')).toBeNull()
    expect(sealer.open('channel-a', '{"from":"x"}')).toBeNull()
  })
})
