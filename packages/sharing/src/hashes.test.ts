import { describe, expect, it } from 'vitest'
import { hex, md5Hex } from './mispHash.ts'
import { MISP_NAMESPACE } from './mispUuid.ts'
import {
  isUuid,
  UUID_NAMESPACE_DNS as NAMESPACE_DNS,
  UUID_NAMESPACE_URL as NAMESPACE_URL,
  sha1,
  utf8Bytes as utf8,
  uuidv5 as uuid5,
} from './uuid.ts'

const sha1Hex = (text: string) => hex(sha1(utf8(text)))

/**
 * [text, SHA-1, MD5, uuid5(NAMESPACE_URL, text)], computed with Python's hashlib and uuid. Lengths
 * 55 and 56 straddle the block where the message length no longer fits; the last is multi-byte.
 */
const VECTORS: [string, string, string, string][] = [
  [
    '',
    'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    'd41d8cd98f00b204e9800998ecf8427e',
    '1b4db7eb-4057-5ddf-91e0-36dec72071f5',
  ],
  [
    'abc',
    'a9993e364706816aba3e25717850c26c9cd0d89d',
    '900150983cd24fb0d6963f7d28e17f72',
    '68661508-f3c4-55b4-945d-ae2b4dfe5db4',
  ],
  [
    'The quick brown fox jumps over the lazy dog',
    '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
    '9e107d9d372bb6826bd81d3542a419d6',
    '2b6d5856-a62c-533b-ba8d-73995111374c',
  ],
  [
    'a'.repeat(55),
    'c1c8bbdc22796e28c0e15163d20899b65621d65a',
    'ef1772b6dff9a122358552954ad0df65',
    '216292ab-33d5-55d9-9441-e27c6d581a9d',
  ],
  [
    'a'.repeat(56),
    'c2db330f6083854c99d4b5bfb6e8f29f201be699',
    '3b0c8ac703f828b04c6c197006d17218',
    '699537c5-641d-5db1-8010-0f64002fd7ee',
  ],
  [
    'a'.repeat(64),
    '0098ba824b5c16427bd7a1122a5a442a25ec644d',
    '014842d480b571495a4a0363793f7367',
    '37a282a8-9bf9-58e8-af1a-344d9b593c37',
  ],
  [
    'x'.repeat(10_000),
    'f8c5cde791c5056cf515881e701c8a9ecb439a75',
    'b567fcb68d8555227123ab87e255872e',
    '8a62fb5f-c864-581e-9b7c-4c54121647c2',
  ],
  [
    'Tallinn → Rīga, ½ €, 😀',
    '51b5ab4073779dc5472f1573f1873b84510c09e7',
    '40da5bdff175dc4f806e464cd2e2b81d',
    '8fbba01e-6034-5901-86d6-aab7e19061b8',
  ],
]

describe('hashes in plain TypeScript', () => {
  it('SHA-1 gives the reference digests (FIPS 180: abc, one million a)', () => {
    for (const [text, sha1] of VECTORS) expect(sha1Hex(text)).toBe(sha1)
    expect(sha1Hex('a'.repeat(1_000_000))).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f')
  })

  it('MD5 gives the reference digests (RFC 1321: abc, one million a)', () => {
    for (const [text, , md5] of VECTORS) expect(md5Hex(text)).toBe(md5)
    expect(md5Hex('a'.repeat(1_000_000))).toBe('7707d6ae4e027c70eea2a935c2296f21')
  })

  it('UTF-8 matches TextEncoder; a lone surrogate becomes U+FFFD', () => {
    for (const [text] of VECTORS) expect([...utf8(text)]).toEqual([...new TextEncoder().encode(text)])
    expect([...utf8('lone \ud800 surrogate')]).toEqual([...new TextEncoder().encode('lone \ufffd surrogate')])
    expect(sha1Hex('lone \ud800 surrogate')).toBe('e118b193cc2b0498b4552aa2cc83afe2b2f07b00')
  })
})

describe('uuid5 (RFC 4122)', () => {
  it("gives the RFC's and Python's vector: uuid5(NAMESPACE_DNS, 'python.org')", () => {
    expect(uuid5(NAMESPACE_DNS, 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d')
  })

  it("matches Python's uuid.uuid5 in the URL namespace", () => {
    expect(uuid5(NAMESPACE_URL, 'https://www.misp-project.org/')).toBe('83268b9f-30b1-5463-b4c4-75e8afc4a173')
    for (const [text, , , uuid] of VECTORS) expect(uuid5(NAMESPACE_URL, text)).toBe(uuid)
  })

  it('is version 5, RFC 4122 variant, lower case and deterministic', () => {
    const id = uuid5(MISP_NAMESPACE, 'incident:inc-1')
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(uuid5(MISP_NAMESPACE, 'incident:inc-1')).toBe(id)
    expect(uuid5(MISP_NAMESPACE, 'incident:inc-2')).not.toBe(id)
    expect(uuid5(MISP_NAMESPACE.toUpperCase(), 'incident:inc-1')).toBe(id)
  })

  it('the MISP namespace is fixed forever: uuid5(NAMESPACE_URL, urn:watchfloor:misp)', () => {
    expect(MISP_NAMESPACE).toBe('e4755f4a-7ab5-5653-a6c4-66faecea1325')
  })

  it('refuses a namespace that is no UUID; isUuid knows the 8-4-4-4-12 form', () => {
    expect(() => uuid5('not-a-uuid', 'x')).toThrow()
    expect(isUuid('886313E1-3B8A-5372-9B90-0C9AEE199E5D')).toBe(true)
    expect(isUuid('886313e13b8a53729b900c9aee199e5d')).toBe(false)
    expect(isUuid(42)).toBe(false)
  })
})
