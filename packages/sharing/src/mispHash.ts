/**
 * MD5 in plain TypeScript (the package is pure: no Node crypto, no Web Crypto): it fills the MISP
 * feed's `hashes.csv`, the file MISP reads to cache a feed (`md5(value),event uuid` per line).
 * Never used for anything secret. SHA-1 and UTF-8 are uuid.ts's.
 */
import { padBlocks, utf8Bytes } from './uuid.ts'

const MD5_SHIFTS = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4,
  11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]
const MD5_CONSTANTS = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x1_0000_0000) >>> 0)

/** MD5 (RFC 1321) of some bytes: 16 bytes. */
export function md5(message: Uint8Array): Uint8Array {
  const padded = padBlocks(message, false)
  const view = new DataView(padded.buffer)
  let a0 = 0x67452301
  let b0 = 0xefcdab89
  let c0 = 0x98badcfe
  let d0 = 0x10325476
  const m = new Uint32Array(16)
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(block + i * 4, true)
    let a = a0
    let b = b0
    let c = c0
    let d = d0
    for (let i = 0; i < 64; i++) {
      let f: number
      let g: number
      if (i < 16) {
        f = (b & c) | (~b & d)
        g = i
      } else if (i < 32) {
        f = (d & b) | (~d & c)
        g = (5 * i + 1) % 16
      } else if (i < 48) {
        f = b ^ c ^ d
        g = (3 * i + 5) % 16
      } else {
        f = c ^ (b | ~d)
        g = (7 * i) % 16
      }
      const sum = (a + f + MD5_CONSTANTS[i]! + m[g]!) >>> 0
      const shift = MD5_SHIFTS[i]!
      a = d
      d = c
      c = b
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) >>> 0
    }
    a0 = (a0 + a) >>> 0
    b0 = (b0 + b) >>> 0
    c0 = (c0 + c) >>> 0
    d0 = (d0 + d) >>> 0
  }
  const out = new Uint8Array(16)
  const outView = new DataView(out.buffer)
  ;[a0, b0, c0, d0].forEach((h, i) => {
    outView.setUint32(i * 4, h, true)
  })
  return out
}

/** Lower-case hex of some bytes. */
export function hex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}

/** MD5 of a string's UTF-8 bytes, as lower-case hex (what MISP's feed cache holds per value). */
export function md5Hex(text: string): string {
  return hex(md5(utf8Bytes(text)))
}
