import pg from 'pg'

/** The longest wait between two attempts to listen again. */
const MAX_RETRY_MS = 30_000

/**
 * A `LISTEN` on PostgreSQL channels (one connection), for the event store's new heads and new
 * events. When PostgreSQL cuts the connection it listens again on a new one, in the background:
 * one attempt at a time, after 1 s, then twice as long after each failed attempt (at most 30 s),
 * until closed. The event store covers the gap by polling its head.
 */
export class ChannelListener {
  private client: pg.Client | null = null
  private closed = false
  private retry: NodeJS.Timeout | undefined
  private failures = 0

  constructor(
    private readonly connectionString: string,
    private readonly channels: readonly string[],
    private readonly onPayload: (payload: string, channel: string) => void,
  ) {}

  /** Connect and listen; rejects when the first connection fails. */
  async start(): Promise<void> {
    await this.listen()
  }

  /** Whether a connection listens now (false while one is being made again). */
  get listening(): boolean {
    return this.client !== null
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true })
    let listened = false
    let lost = false
    // a connection emits `error` and then `end` (PostgreSQL's message, then the socket closing):
    // one loss, one attempt; a connection that never listened is the attempt's caller's to retry
    const lose = () => {
      if (lost) return
      lost = true
      if (this.client === client) this.client = null
      client.end().catch(() => {})
      if (listened) this.again()
    }
    client.on('error', lose)
    client.on('end', lose)
    client.on('notification', (message) => {
      if (!this.closed && !lost) this.onPayload(message.payload ?? '', message.channel)
    })
    try {
      await client.connect()
      for (const channel of this.channels) await client.query(`LISTEN ${channel}`)
    } catch (error) {
      lose()
      throw error
    }
    if (this.closed || lost) {
      await client.end().catch(() => {})
      return
    }
    listened = true
    this.client = client
    this.failures = 0
  }

  /** Listen again later, unless closed or an attempt is already waiting. */
  private again(): void {
    if (this.closed || this.retry !== undefined) return
    const wait = Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(this.failures, 5))
    this.retry = setTimeout(() => {
      this.retry = undefined
      if (this.closed) return
      this.listen().catch(() => {
        this.failures++
        this.again()
      })
    }, wait)
    this.retry.unref()
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.retry)
    this.retry = undefined
    await this.client?.end().catch(() => {})
    this.client = null
  }
}
