/**
 * An observation's indicator (free text, up to 2,000 characters) as STIX Cyber-observable
 * Objects, and back. Only standard SCO types, only when sure: the whole indicator when it is
 * one observable (an IPv4 or IPv6 address, a domain name, a URL, an e-mail address, a MAC
 * address, an MD5/SHA-1/SHA-256/SHA-512 hash, an AS number), otherwise the IPv4 addresses,
 * URLs, e-mail addresses and hashes written inside it. The text itself travels beside them (the
 * sighting's `description`), so nothing is lost when nothing is recognised.
 */
import { type StixObject, scoId } from './stixTypes.ts'

/** The most SCOs taken from one indicator. */
export const MAX_OBSERVABLES = 20

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}(?:\\/(?:3[0-2]|[12]\\d|\\d))?$`)
const IPV6_PREFIX = /^(?:12[0-8]|1[01]\d|[1-9]\d|\d)$/
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const DOMAIN = new RegExp(`^(?=.{4,253}$)(?:${LABEL}\\.)+[a-z]{2,63}$`, 'i')
/** Endings that name files far more often than top-level domains: `invoice.pdf` is not a host. */
const FILE_ENDINGS = new Set([
  'bat',
  'bin',
  'dll',
  'doc',
  'docx',
  'exe',
  'js',
  'pdf',
  'ps1',
  'sh',
  'txt',
  'xls',
  'xlsx',
])
const PCHAR = "(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})"
const QCHAR = "(?:[a-z0-9\\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})"
const HOST = "(?:[a-z0-9\\-._~!$&'()*+,;=]|%[0-9a-f]{2})+"
const URL = new RegExp(
  `^[a-z][a-z0-9+.-]*:\\/\\/(?:(?:[a-z0-9\\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?${HOST}(?::\\d*)?(?:\\/${PCHAR}*)*(?:\\?${QCHAR}*)?(?:#${QCHAR}*)?$`,
  'i',
)
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$/i
const MAC = /^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$/
const AS_NUMBER = /^AS(\d{1,10})$/
const HASH_ALGORITHMS: Readonly<Record<number, string>> = { 32: 'MD5', 40: 'SHA-1', 64: 'SHA-256', 128: 'SHA-512' }
const HEX = /^[0-9a-f]+$/i

/** The standard SCO an indicator is, taken whole (after trimming), or undefined. */
export function observableOf(indicator: string): StixObject | undefined {
  const text = indicator.trim()
  if (text.length === 0 || text.length > 2048) return undefined
  if (IPV4.test(text)) return valueObservable('ipv4-addr', text)
  if (isIpv6(text)) return valueObservable('ipv6-addr', text)
  if (MAC.test(text)) return valueObservable('mac-addr', text)
  const algorithm = HASH_ALGORITHMS[text.length]
  if (algorithm !== undefined && HEX.test(text)) return fileObservable(algorithm, text)
  if (URL.test(text)) return valueObservable('url', text)
  if (EMAIL.test(text)) return valueObservable('email-addr', text)
  const as = AS_NUMBER.exec(text)
  if (as !== null) {
    const number = Number(as[1])
    if (number <= 0xffff_ffff)
      return { type: 'autonomous-system', spec_version: '2.1', id: scoId('autonomous-system', { number }), number }
  }
  if (DOMAIN.test(text) && !FILE_ENDINGS.has(text.slice(text.lastIndexOf('.') + 1).toLowerCase())) {
    return valueObservable('domain-name', text)
  }
  return undefined
}

/**
 * The SCOs of an indicator: itself when it is one observable, otherwise the IPv4 addresses,
 * URLs, e-mail addresses and hashes found in its text, each once, at most `MAX_OBSERVABLES`.
 */
export function observablesOf(indicator: string): StixObject[] {
  const whole = observableOf(indicator)
  if (whole !== undefined) return [whole]
  const found = new Map<string, StixObject>()
  const keep = (sco: StixObject | undefined): void => {
    if (sco !== undefined && found.size < MAX_OBSERVABLES && !found.has(sco.id)) found.set(sco.id, sco)
  }
  for (const match of indicator.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s<>"'`]+/gi)) {
    const url = match[0].replace(/[.,;:!?)\]}]+$/, '')
    if (URL.test(url)) keep(valueObservable('url', url))
  }
  for (const match of indicator.matchAll(/(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g)) {
    if (IPV4.test(match[0])) keep(valueObservable('ipv4-addr', match[0]))
  }
  for (const match of indicator.matchAll(/(?<![\w@.+-])[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,63}\b/gi)) {
    if (EMAIL.test(match[0])) keep(valueObservable('email-addr', match[0]))
  }
  for (const match of indicator.matchAll(/(?<![0-9a-z])[0-9a-f]{32,128}(?![0-9a-z])/gi)) {
    const algorithm = HASH_ALGORITHMS[match[0].length]
    if (algorithm !== undefined) keep(fileObservable(algorithm, match[0]))
  }
  return [...found.values()]
}

/** A short text for one SCO: its value, a hash, a name, `AS<number>`; undefined for kinds without one. */
export function describeObservable(sco: Readonly<Record<string, unknown>>): string | undefined {
  // a partner's data, whatever its declared shape: nothing to describe in what is not an object
  if (typeof sco !== 'object' || sco === null) return undefined
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined
  switch (sco.type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
    case 'domain-name':
    case 'url':
    case 'email-addr':
    case 'mac-addr':
      return text(sco.value)
    case 'autonomous-system':
      return typeof sco.number === 'number' ? `AS${sco.number}` : undefined
    case 'file': {
      const hashes =
        typeof sco.hashes === 'object' && sco.hashes !== null ? (sco.hashes as Record<string, unknown>) : {}
      for (const algorithm of ['SHA-256', 'SHA-1', 'MD5', 'SHA-512']) {
        const hash = text(hashes[algorithm])
        if (hash !== undefined) return hash
      }
      for (const value of Object.values(hashes)) {
        const hash = text(value)
        if (hash !== undefined) return hash
      }
      return text(sco.name)
    }
    case 'directory':
      return text(sco.path)
    case 'mutex':
    case 'software':
      return text(sco.name)
    default:
      return undefined
  }
}

function valueObservable(type: string, value: string): StixObject {
  return { type, spec_version: '2.1', id: scoId(type, { value }), value }
}

function fileObservable(algorithm: string, hash: string): StixObject {
  const hashes = { [algorithm]: hash }
  return { type: 'file', spec_version: '2.1', id: scoId('file', { hashes }), hashes }
}

/** An IPv6 address in hexadecimal groups (`2001:db8::1`, an optional `/prefix`); dotted IPv4 tails are left out. */
function isIpv6(text: string): boolean {
  const [address, prefix, ...rest] = text.split('/')
  if (address === undefined || rest.length > 0) return false
  if (prefix !== undefined && !IPV6_PREFIX.test(prefix)) return false
  if (!address.includes(':')) return false
  const halves = address.split('::')
  if (halves.length > 2) return false
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')))
  if (!groups.every((list) => list.every((group) => HEX_GROUP.test(group)))) return false
  const count = groups.reduce((sum, list) => sum + list.length, 0)
  return halves.length === 2 ? count <= 7 : count === 8
}
