import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WatchfloorError } from '@watchfloor/protocol'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { answerError } from './errors.ts'

describe('answerError', () => {
  it('answers the error alone: what described the document a route meant to send is dropped, and no cache keeps it', async () => {
    const logger = pino({ level: 'silent' })
    const server = createServer((_req, res) => {
      // what an export, a file or the sign-in throttle may have set before it failed
      res.setHeader('Content-Disposition', 'attachment; filename="watchfloor-events-to-seq-42.csv"')
      res.setHeader('X-Watchfloor-Marking', 'TLP:AMBER')
      res.setHeader('X-Watchfloor-Head', '42')
      res.setHeader('Content-Type', 'text/csv; charset=utf-8')
      res.setHeader('Cache-Control', 'public, max-age=3600')
      res.setHeader('ETag', 'W/"abc"')
      res.setHeader('Last-Modified', 'Sun, 06 Dec 2026 08:00:00 GMT')
      res.setHeader('Retry-After', '30')
      res.setHeader('X-Request-Id', 'req-1')
      res.setHeader('X-Content-Type-Options', 'nosniff')
      answerError(logger, new WatchfloorError('too_many_requests', 'slow down'), res)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      expect(response.status).toBe(429)
      expect(await response.json()).toEqual({ error: { code: 'too_many_requests', message: 'slow down' } })
      const headers = Object.fromEntries(response.headers)
      for (const gone of ['content-disposition', 'x-watchfloor-marking', 'x-watchfloor-head', 'etag', 'last-modified'])
        expect(headers[gone], gone).toBeUndefined()
      expect(headers['content-type']).toBe('application/json; charset=utf-8')
      expect(headers['cache-control']).toBe('no-store')
      expect(headers['retry-after']).toBe('30')
      expect(headers['x-request-id']).toBe('req-1')
      expect(headers['x-content-type-options']).toBe('nosniff')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
