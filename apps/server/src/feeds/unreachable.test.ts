import { describe, expect, it } from 'vitest'
import { unreachable } from './poller.ts'

const ORIGIN = 'https://taxii.partner.example'
/** What undici's fetch throws: "fetch failed", the reason in its cause. */
const fetchFailed = (code: string, message = `${code} message`) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) })

describe('why a partner could not be read', () => {
  it.each([
    ['ENOTFOUND', 'https://taxii.partner.example: no such host (its name was not found)'],
    ['EAI_AGAIN', 'its name could not be looked up just now (DNS)'],
    ['ECONNREFUSED', 'https://taxii.partner.example refused the connection (nothing listens there)'],
    ['ECONNRESET', 'closed the connection before it answered'],
    ['UND_ERR_CONNECT_TIMEOUT', 'could not be reached in time'],
    ['EHOSTUNREACH', 'cannot be reached from this server (no route to it)'],
    ['CERT_HAS_EXPIRED', "https://taxii.partner.example's TLS certificate is not trusted here (CERT_HAS_EXPIRED)"],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS certificate is not trusted here'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'the TLS handshake failed (is it HTTPS there?)'],
  ])('%s', (code, words) => {
    const said = unreachable(ORIGIN, fetchFailed(code), 30_000)
    expect(said).toContain(words)
    expect(said).not.toContain('fetch failed')
  })

  it('a port fetch will not connect to is said to be one', () => {
    expect(unreachable('http://127.0.0.1:9', fetchFailed('', 'bad port'), 30_000)).toBe(
      'http://127.0.0.1:9: fetch never connects to that port (one the Fetch standard blocks); the partner must serve TAXII on another',
    )
  })

  it('a timeout says how long was waited; anything else says its cause', () => {
    expect(
      unreachable(ORIGIN, new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 30_000),
    ).toBe('https://taxii.partner.example did not answer within 30 s')
    expect(unreachable(ORIGIN, fetchFailed('EWHATEVER', 'something odd'), 30_000)).toBe(
      'https://taxii.partner.example could not be read: something odd',
    )
    expect(unreachable(ORIGIN, new Error('plain'), 30_000)).toBe(
      'https://taxii.partner.example could not be read: plain',
    )
  })
})
