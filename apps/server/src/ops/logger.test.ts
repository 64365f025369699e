import { Writable } from 'node:stream'
import type { Request } from 'express'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.ts'
import { asSocket, outsideRequest, requestIdOf, safeUrl } from './requestContext.ts'

/** A logger at `trace` whose lines are collected, parsed. */
function capture(): {
  logger: ReturnType<typeof createLogger>
  lines: () => Record<string, unknown>[]
  raw: () => string
} {
  let text = ''
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk)
      done()
    },
  })
  const logger = createLogger('trace', sink)
  return {
    logger,
    raw: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}

describe('the logger', () => {
  it('censors credentials in headers, bodies and nested objects, and keeps the rest', () => {
    const { logger, lines, raw } = capture()
    logger.info(
      {
        password: 'pw-top',
        req: {
          method: 'POST',
          headers: {
            authorization: 'Bearer wf_header-secret',
            cookie: 'watchfloor_session=cookie-secret',
            'user-agent': 'curl',
          },
          body: { username: 'kadri', password: 'pw-body', token: 'tok-body', secret: 'sec-body' },
        },
        res: { headers: { 'set-cookie': 'watchfloor_session=set-cookie-secret' } },
        feed: {
          auth: { kind: 'basic', username: 'partner', password: 'feed-password', secretEnv: 'WATCHFLOOR_FEED_X' },
        },
      },
      'a line',
    )
    for (const secret of [
      'pw-top',
      'wf_header-secret',
      'cookie-secret',
      'pw-body',
      'tok-body',
      'sec-body',
      'feed-password',
    ])
      expect(raw()).not.toContain(secret)
    const [line] = lines()
    expect(line).toMatchObject({
      msg: 'a line',
      password: '[Redacted]',
      req: {
        method: 'POST',
        headers: { authorization: '[Redacted]', cookie: '[Redacted]', 'user-agent': 'curl' },
        body: { username: 'kadri', password: '[Redacted]' },
      },
      res: { headers: { 'set-cookie': '[Redacted]' } },
      feed: { auth: { username: 'partner', password: '[Redacted]', secretEnv: 'WATCHFLOOR_FEED_X' } },
    })
  })

  it('adds no request fields to a line logged outside a request', () => {
    const { logger, lines } = capture()
    logger.info('outside')
    expect(lines()[0]).not.toHaveProperty('reqId')
    expect(lines()[0]).not.toHaveProperty('principal')
  })
})

describe('the contexts of lines', () => {
  it("a socket's lines carry its id; work started outside any request, from within one, and what it starts later, carry none", async () => {
    const { logger, lines } = capture()
    let later: Promise<void> = Promise.resolve()
    asSocket('socket-1.3', undefined, () => {
      logger.info('in the message')
      outsideRequest(() => {
        logger.info('background, at once')
        later = new Promise((resolve) =>
          setTimeout(() => {
            logger.info('background, later')
            resolve()
          }, 5),
        )
      })
      logger.info('in the message again')
    })
    await later
    const of = (msg: string) => lines().find((line) => line.msg === msg)!
    expect(of('in the message')).toMatchObject({ reqId: 'socket-1.3', principal: null })
    expect(of('in the message again')).toMatchObject({ reqId: 'socket-1.3', principal: null })
    for (const msg of ['background, at once', 'background, later']) {
      expect(of(msg)).not.toHaveProperty('reqId')
      expect(of(msg)).not.toHaveProperty('principal')
    }
  })
})

describe('safeUrl', () => {
  it('censors query values whose names look like secrets, and leaves the rest as sent', () => {
    expect(safeUrl('/api/v1/events?after=10&limit=5')).toBe('/api/v1/events?after=10&limit=5')
    expect(safeUrl('/x?access_token=abc&after=1&Password=p&api%5Fkey=k')).toBe(
      '/x?access_token=[Redacted]&after=1&Password=[Redacted]&api%5Fkey=[Redacted]',
    )
    expect(safeUrl('/plain')).toBe('/plain')
  })
})

describe('requestIdOf', () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as Request

  it('takes a well-formed X-Request-Id, and makes one for anything else', () => {
    expect(requestIdOf(request({ 'x-request-id': 'abc-123_x.y:z' }))).toBe('abc-123_x.y:z')
    for (const asked of ['', ' lead', 'with space', 'x'.repeat(129), 'a"b', 'a\nb', '-starts-with-dash', 'wf_secret'])
      expect(requestIdOf(request({ 'x-request-id': asked }))).toMatch(/^[0-9a-f-]{36}$/)
    expect(requestIdOf(request({}))).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('never takes the request’s own bearer token or session id as its id', () => {
    const token = 'static-token-0123456789'
    expect(requestIdOf(request({ authorization: `Bearer ${token}`, 'x-request-id': token }))).not.toBe(token)
    const session = 'c2Vzc2lvbi1pZC1zZWNyZXQ'
    expect(requestIdOf(request({ cookie: `watchfloor_session=${session}`, 'x-request-id': session }))).not.toBe(session)
  })
})
