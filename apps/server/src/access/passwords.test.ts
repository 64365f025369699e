import { describe, expect, it } from 'vitest'
import { hashPassword, needsRehash, randomPassword, verifyPassword } from './passwords.ts'

describe('passwords', () => {
  it('hashes with scrypt, salted, with its parameters in the encoded string', async () => {
    const one = await hashPassword('correct horse battery staple')
    const two = await hashPassword('correct horse battery staple')
    expect(one).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/)
    expect(one).not.toBe(two)
    expect(one).not.toContain('correct horse')
    expect(needsRehash(one)).toBe(false)
  })

  it('verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple')
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true)
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false)
    expect(await verifyPassword('', hash)).toBe(false)
  })

  it('verifies hashes made with other parameters, and says they should be replaced when weaker', async () => {
    // ln=10: an older, cheaper hash of "secret-password" made with the same encoding
    const { scryptSync } = await import('node:crypto')
    const salt = Buffer.from('0123456789abcdef')
    const key = scryptSync('secret-password', salt, 32, { N: 1024, r: 8, p: 1 })
    const old = `$scrypt$ln=10,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`
    expect(await verifyPassword('secret-password', old)).toBe(true)
    expect(await verifyPassword('other-password', old)).toBe(false)
    expect(needsRehash(old)).toBe(true)
  })

  it('takes the cost as a parameter (WATCHFLOOR_PASSWORD_COST)', async () => {
    const cheap = await hashPassword('correct horse battery staple', 12)
    expect(cheap).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$/)
    expect(await verifyPassword('correct horse battery staple', cheap, 12)).toBe(true)
    expect(needsRehash(cheap, 12)).toBe(false)
    expect(needsRehash(cheap)).toBe(true)
    expect(await verifyPassword('wrong', null, 12)).toBe(false)
  })

  it('says no, in about the same time, without a hash or with a malformed one', async () => {
    expect(await verifyPassword('anything', null)).toBe(false)
    expect(await verifyPassword('anything', 'plain-text')).toBe(false)
    expect(
      await verifyPassword(
        'anything',
        '$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      ),
    ).toBe(false)
  })

  it('makes random passwords of 24 characters', () => {
    const a = randomPassword()
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(randomPassword()).not.toBe(a)
  })
})
