import { describe, expect, it } from 'vitest'
import { STIX_SCO_NAMESPACE, scoId, stixTime, WATCHFLOOR_STIX_NAMESPACE, watchfloorStixId } from './stixTypes.ts'
import { isUuid, sha1, UUID_NAMESPACE_DNS, UUID_NAMESPACE_URL, utf8Bytes, uuidv5 } from './uuid.ts'

const hex = (bytes: Uint8Array): string => [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0))

describe('SHA-1 (pure)', () => {
  it('gives the FIPS 180 test vectors', () => {
    expect(hex(sha1(ascii('')))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709')
    expect(hex(sha1(ascii('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d')
    expect(hex(sha1(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    )
    expect(hex(sha1(new Uint8Array(1_000_000).fill(0x61)))).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f')
  })

  it('agrees with Web Crypto at every length around the block boundaries', async () => {
    for (let length = 0; length <= 200; length++) {
      const message = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff)
      const expected = new Uint8Array(await crypto.subtle.digest('SHA-1', message))
      expect(hex(sha1(message)), `length ${length}`).toBe(hex(expected))
    }
  })

  it('hashes UTF-8 text like Python (hashlib.sha1("😀 ü ☃".encode()))', () => {
    expect(hex(sha1(utf8Bytes('😀 ü ☃')))).toBe('a6af6da9580ef2685e48be7a68c18475f17a020d')
  })
})

describe('UTF-8 (pure)', () => {
  it('encodes like TextEncoder, lone surrogates included', () => {
    for (const text of ['', 'plain', 'é', '☃', '😀', 'a\u0800b\uffff', '\ud800', 'x\udc00y', '\ud83d\ude00\ud83d']) {
      expect([...utf8Bytes(text)], JSON.stringify(text)).toEqual([...new TextEncoder().encode(text)])
    }
  })
})

describe('UUIDv5 (pure)', () => {
  it("gives RFC 4122's example: uuid5(NAMESPACE_DNS, 'python.org')", () => {
    expect(uuidv5(UUID_NAMESPACE_DNS, 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d')
  })

  it("gives CPython's uuid.uuid5 for non-ASCII names", () => {
    expect(uuidv5(UUID_NAMESPACE_URL, 'https://example.org/ü/😀')).toBe('81c069bb-1a4e-561e-9c04-aed1a851dd76')
  })

  it('is version 5 of the RFC variant, lower case, whatever the case of the namespace', () => {
    const id = uuidv5(STIX_SCO_NAMESPACE.toUpperCase(), 'x')
    expect(id).toBe(uuidv5(STIX_SCO_NAMESPACE, 'x'))
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(isUuid(id)).toBe(true)
    expect(() => uuidv5('not-a-uuid', 'x')).toThrow('not a UUID')
  })

  it("Watchfloor's namespace is uuid5(NAMESPACE_URL, 'urn:watchfloor:stix'), fixed for good", () => {
    expect(uuidv5(UUID_NAMESPACE_URL, 'urn:watchfloor:stix')).toBe(WATCHFLOOR_STIX_NAMESPACE)
    expect(watchfloorStixId('incident', 'incident:inc-1')).toBe(
      `incident--${uuidv5(WATCHFLOOR_STIX_NAMESPACE, 'incident:inc-1')}`,
    )
  })
})

describe('deterministic SCO ids (STIX 2.1 section 2.9)', () => {
  // expected ids from CPython: uuid.uuid5(UUID('00abedb4-…'), '<RFC 8785 JSON of the ID contributing properties>')
  it('hash the canonical JSON of the ID contributing properties in the STIX namespace', () => {
    expect(scoId('email-addr', { value: 'john@example.com' })).toBe('email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934')
    expect(scoId('domain-name', { value: 'example.com' })).toBe('domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7')
    expect(scoId('ipv4-addr', { value: '198.51.100.3' })).toBe('ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4')
    expect(scoId('ipv6-addr', { value: '2001:db8::1' })).toBe('ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26')
    expect(scoId('autonomous-system', { number: 15169 })).toBe(
      'autonomous-system--7afc7bdf-d070-5add-90ff-f93503b1654d',
    )
    expect(scoId('file', { hashes: { 'SHA-256': 'a'.repeat(64) } })).toBe('file--75cb38d5-2055-5354-b75a-8299a2d670b5')
    expect(scoId('domain-name', { value: 'évil.example' })).toBe('domain-name--5f7f399c-4f33-56b6-83ff-c8b5f4c60c56')
  })
})

describe('STIX times', () => {
  it('are UTC to the millisecond, whatever the offset and precision given', () => {
    expect(stixTime('2026-11-26T10:00:00+02:00')).toBe('2026-11-26T08:00:00.000Z')
    expect(stixTime('2026-11-26T08:00:00.123456Z')).toBe('2026-11-26T08:00:00.123Z')
    expect(() => stixTime('yesterday')).toThrow('not a time')
  })
})
