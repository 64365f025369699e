import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/** scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, memory-hard), 16-byte salt, 32-byte key. */
const DEFAULT = { ln: 15, r: 8, p: 1 }
/** The default log2 of scrypt's N (`WATCHFLOOR_PASSWORD_COST`). */
export const DEFAULT_PASSWORD_COST = DEFAULT.ln
const SALT_BYTES = 16
const KEY_BYTES = 32
/** Bounds on what a stored hash may ask for, so a tampered row cannot exhaust the process. */
const MAX = { ln: 20, r: 32, p: 16 }

function derive(password: string, salt: Buffer, keyLength: number, cost: typeof DEFAULT): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** cost.ln,
    r: cost.r,
    p: cost.p,
    maxmem: 256 * cost.r * 2 ** cost.ln + 1024 * 1024,
  }
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  )
}

/**
 * Hash a password with scrypt, as `$scrypt$ln=15,r=8,p=1$<salt>$<key>` (base64, PHC
 * style): the parameters travel with the hash, so they can be raised later and old
 * hashes still verify.
 */
export async function hashPassword(password: string, ln: number = DEFAULT.ln): Promise<string> {
  const cost = { ...DEFAULT, ln }
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, KEY_BYTES, cost)
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

interface Parsed {
  cost: typeof DEFAULT
  salt: Buffer
  key: Buffer
}

function parse(encoded: string): Parsed | null {
  const match = encoded.match(/^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/)
  if (!match) return null
  const cost = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  if (cost.ln < 1 || cost.ln > MAX.ln || cost.r < 1 || cost.r > MAX.r || cost.p < 1 || cost.p > MAX.p) return null
  const salt = Buffer.from(match[4]!, 'base64')
  const key = Buffer.from(match[5]!, 'base64')
  if (salt.length < 8 || key.length < 16) return null
  return { cost, salt, key }
}

const decoys = new Map<number, Promise<Parsed>>()

/**
 * Does the password match the encoded hash? Compares in constant time. With no hash
 * (no such account, or none set) it still derives a key against a decoy, so the
 * answer takes as long and tells nothing about which usernames exist.
 */
export async function verifyPassword(
  password: string,
  encoded: string | null,
  ln: number = DEFAULT.ln,
): Promise<boolean> {
  const parsed = encoded === null ? null : parse(encoded)
  if (!parsed) {
    let decoy = decoys.get(ln)
    if (!decoy) {
      decoy = hashPassword(randomBytes(16).toString('hex'), ln).then((hash) => parse(hash)!)
      decoys.set(ln, decoy)
    }
    const fake = await decoy
    await derive(password, fake.salt, fake.key.length, fake.cost)
    return false
  }
  const key = await derive(password, parsed.salt, parsed.key.length, parsed.cost)
  return timingSafeEqual(key, parsed.key)
}

/** Does this hash use weaker parameters than the current ones (so it should be replaced at the next sign-in)? */
export function needsRehash(encoded: string, ln: number = DEFAULT.ln): boolean {
  const parsed = parse(encoded)
  return !parsed || parsed.cost.ln < ln || parsed.cost.r < DEFAULT.r || parsed.cost.p < DEFAULT.p
}

/** A random password for generated accounts: 24 characters, 144 bits. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url')
}
