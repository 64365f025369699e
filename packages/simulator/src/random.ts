/** A seed: any number or string; the same seed always gives the same sequence. */
export type Seed = number | string

/** A small seeded pseudo-random generator (sfc32) with the helpers the scenarios need. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** An unsigned 32-bit integer. */
  uint32(): number
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number
  /** A float in [min, max). */
  float(min: number, max: number): number
  /** True with probability `p`. */
  chance(p: number): boolean
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T
  /** One element, chosen with probability proportional to its weight. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T
  /** `n` distinct elements (fewer if the list is shorter), in random order. */
  sample<T>(items: readonly T[], n: number): T[]
  /** `n` lower-case hex digits. */
  hex(n: number): string
  /** A random (version 4, RFC 9562 variant) UUID drawn from this generator. */
  uuid(): string
}

/** Hashes a seed and a stream label to a 32-bit integer (cyrb-style mixing). */
export function hashSeed(seed: Seed, stream = ''): number {
  const text = `${typeof seed}:${String(seed)}/${stream}`
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (h1 ^ h2) >>> 0
}

/**
 * A generator for `seed`; independent `stream`s of one seed give unrelated sequences,
 * so one part of a scenario can draw more or fewer numbers without moving another.
 */
export function createRandom(seed: Seed, stream = ''): Random {
  // splitmix32 spreads the hashed seed over the four words of sfc32's state
  let s = hashSeed(seed, stream)
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()

  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) uint32()

  const next = (): number => uint32() / 4294967296
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  const hex = (n: number): string => {
    let out = ''
    while (out.length < n) out += uint32().toString(16).padStart(8, '0')
    return out.slice(0, n)
  }

  return {
    next,
    uint32,
    int,
    float: (min, max) => min + next() * (max - min),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('cannot pick from an empty list')
      return items[Math.floor(next() * items.length)] as T
    },
    weighted<T>(items: readonly T[], weight: (item: T) => number): T {
      if (items.length === 0) throw new Error('cannot pick from an empty list')
      const weights = items.map((item) => Math.max(0, weight(item)))
      const total = weights.reduce((sum, w) => sum + w, 0)
      if (total <= 0) return items[Math.floor(next() * items.length)] as T
      let r = next() * total
      for (let i = 0; i < items.length; i++) {
        r -= weights[i] ?? 0
        if (r < 0) return items[i] as T
      }
      return items[items.length - 1] as T
    },
    sample<T>(items: readonly T[], n: number): T[] {
      const pool = [...items]
      const count = Math.min(n, pool.length)
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(next() * (pool.length - i))
        const chosen = pool[j] as T
        pool[j] = pool[i] as T
        pool[i] = chosen
      }
      return pool.slice(0, count)
    },
    hex,
    uuid(): string {
      const digits = hex(32)
      const variant = '89ab'[uint32() & 3] ?? '8'
      return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-4${digits.slice(13, 16)}-${variant}${digits.slice(17, 20)}-${digits.slice(20, 32)}`
    },
  }
}
