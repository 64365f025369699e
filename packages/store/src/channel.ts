import pg from 'pg'

/**
 * A `LISTEN` on PostgreSQL channels (one connection), for the event store's new heads and new
 * events. After a connection error it reconnects in the background, every second until closed; the
 * event store covers the gap by polling its head.
 */
export class ChannelListener {
  private client: pg.Client | null = null
  private closed = false

  constructor(
    private readonly connectionString: string,
    private readonly channels: readonly string[],
    private readonly onPayload: (payload: string, channel: string) => void,
  ) {}

  /** Connect and listen; rejects when the first connection fails. */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString })
    client.on('error', () => {
      this.client = null
      setTimeout(() => {
        if (!this.closed) this.start().catch(() => {})
      }, 1000).unref()
    })
    client.on('notification', (message) => {
      if (!this.closed) this.onPayload(message.payload ?? '', message.channel)
    })
    await client.connect()
    for (const channel of this.channels) await client.query(`LISTEN ${channel}`)
    if (this.closed) {
      await client.end()
      return
    }
    this.client = client
  }

  async close(): Promise<void> {
    this.closed = true
    await this.client?.end().catch(() => {})
    this.client = null
  }
}
