/**
 * Name-based UUIDs (version 5, SHA-1; RFC 9562, formerly RFC 4122), pure: a small SHA-1 and a
 * UTF-8 encoder, since this package may use neither Node's crypto nor the DOM's TextEncoder.
 * SHA-1 serves here only to derive identifiers, as the UUID and STIX specifications require,
 * never to protect anything.
 */

/** RFC 9562's namespace for domain names (`6ba7b810-9dad-11d1-80b4-00c04fd430c8`). */
export const UUID_NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'
/** RFC 9562's namespace for URLs and other URIs (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`). */
export const UUID_NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The UUIDv5 of `name` (UTF-8) in `namespace`, lower case: the same inputs give the same UUID everywhere. */
export function uuidv5(namespace: string, name: string): string {
  const space = uuidBytes(namespace)
  const text = utf8Bytes(name)
  const input = new Uint8Array(space.length + text.length)
  input.set(space, 0)
  input.set(text, space.length)
  const hash = sha1(input)
  const bytes = hash.subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50 // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80 // the RFC variant
  return formatUuid(bytes)
}

/** Is `value` a UUID in its text form (any version, either case)? */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value)
}

/** The 16 bytes of a UUID written as text. */
export function uuidBytes(uuid: string): Uint8Array {
  if (!isUuid(uuid)) throw new Error(`not a UUID: ${uuid}`)
  const hex = uuid.replaceAll('-', '')
  const bytes = new Uint8Array(16)
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

function formatUuid(bytes: Uint8Array): string {
  let hex = ''
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** UTF-8 bytes of a string, like `TextEncoder`: a lone surrogate becomes U+FFFD. */
export function utf8Bytes(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i)
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00)
        i++
      } else {
        code = 0xfffd
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      code = 0xfffd
    }
    if (code < 0x80) out.push(code)
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f))
    else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f))
    else out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f))
  }
  return Uint8Array.from(out)
}

/**
 * A message padded as SHA-1 and MD5 both pad it: a 1 bit, zeros to 56 mod 64 bytes, then its length
 * in bits as a 64-bit number (big-endian for SHA-1, little-endian for MD5).
 */
export function padBlocks(message: Uint8Array, bigEndian: boolean): Uint8Array {
  const length = message.length
  const total = Math.ceil((length + 9) / 64) * 64
  const padded = new Uint8Array(total)
  padded.set(message)
  padded[length] = 0x80
  const view = new DataView(padded.buffer)
  const bits = length * 8
  const high = Math.floor(bits / 0x1_0000_0000)
  const low = bits >>> 0
  if (bigEndian) {
    view.setUint32(total - 8, high, false)
    view.setUint32(total - 4, low, false)
  } else {
    view.setUint32(total - 8, low, true)
    view.setUint32(total - 4, high, true)
  }
  return padded
}

/** SHA-1 (FIPS 180-4) of `message`: 20 bytes. */
export function sha1(message: Uint8Array): Uint8Array {
  const padded = padBlocks(message, true)
  const view = new DataView(padded.buffer)

  let h0 = 0x67452301
  let h1 = 0xefcdab89
  let h2 = 0x98badcfe
  let h3 = 0x10325476
  let h4 = 0xc3d2e1f0
  const w = new Uint32Array(80)
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4)
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!, 1)
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    for (let t = 0; t < 80; t++) {
      let f: number
      let k: number
      if (t < 20) {
        f = (b & c) | (~b & d)
        k = 0x5a827999
      } else if (t < 40) {
        f = b ^ c ^ d
        k = 0x6ed9eba1
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d)
        k = 0x8f1bbcdc
      } else {
        f = b ^ c ^ d
        k = 0xca62c1d6
      }
      const temp = (rotl(a, 5) + f + e + k + w[t]!) >>> 0
      e = d
      d = c
      c = rotl(b, 30)
      b = a
      a = temp
    }
    h0 = (h0 + a) >>> 0
    h1 = (h1 + b) >>> 0
    h2 = (h2 + c) >>> 0
    h3 = (h3 + d) >>> 0
    h4 = (h4 + e) >>> 0
  }
  const digest = new Uint8Array(20)
  const out = new DataView(digest.buffer)
  out.setUint32(0, h0)
  out.setUint32(4, h1)
  out.setUint32(8, h2)
  out.setUint32(12, h3)
  out.setUint32(16, h4)
  return digest
}

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0
}
