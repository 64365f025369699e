/**
 * Partner feeds pulled in: each TAXII 2.1 collection an admin registered is polled with
 * `added_after` and paging, its objects imported as events of the organisation the feed speaks
 * for, through the same import and ingest as `POST /api/v1/import/stix` (markings kept; an
 * unmarked object takes the feed's default TLP). A feed that is down backs off and says why in its
 * state. One process polls a feed at a time (a lease in the credential store), so several server
 * processes on one PostgreSQL log do not import twice; within a process, one poll of a feed at a
 * time (the lease is the process's own, so it alone would not keep a tick and a "poll now" apart).
 * A feed's credentials go over https only, or to a loopback host, unless `allowHttp`.
 */
import { randomUUID } from 'node:crypto'
import { isNamed, type Owners } from '@watchfloor/core'
import { importStix, stixBundle } from '@watchfloor/sharing'
import type { CredentialStore, EventStore, Feed, FeedAuth, FeedState } from '@watchfloor/store'
import type { Logger } from 'pino'
import type { Caller } from '../access/access.ts'
import type { Directory } from '../access/directory.ts'
import { importEvents } from '../write/imports.ts'

/** The TAXII 2.1 media type, asked for and expected (TAXII 2.1 section 1.6.8). */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1'

export interface FeedPollerOptions {
  /** Who this process is, for the lease. */
  holder?: string
  /** Where the feeds' secrets are read (`secretEnv`). */
  env?: Record<string, string | undefined>
  fetchFn?: typeof fetch
  /** How often due feeds are looked for. Default 1 s. */
  tickMs?: number
  /** Objects asked for per page. Default 500. */
  pageSize?: number
  /** The longest wait after failures. Default one hour. */
  maxBackoffMs?: number
  /** One poll's deadline per request. Default 30 s. */
  requestTimeoutMs?: number
  /** Send a feed's credentials over plain http to any host (WATCHFLOOR_FEED_ALLOW_HTTP). Default false. */
  allowHttp?: boolean
}

/** A loopback host of a URL: `localhost`, 127.0.0.0/8, `[::1]`. */
function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase()
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Why a feed may not carry these credentials to this URL, or undefined when it may: credentials
 * (a bearer token, a password) go over https only, or over http to a loopback host, unless
 * `allowHttp` (WATCHFLOOR_FEED_ALLOW_HTTP=1).
 */
export function credentialsOverHttp(url: string, auth: FeedAuth, allowHttp: boolean): string | undefined {
  if (auth.kind === 'none' || allowHttp) return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined // not a URL: refused for that by whoever checks it
  }
  if (parsed.protocol !== 'http:' || isLoopback(parsed)) return undefined
  return `a feed with credentials (auth ${auth.kind}) must use https:// (or http:// to a loopback host), so that its secret never crosses the network in clear; ${parsed.host} is reached over http (set WATCHFLOOR_FEED_ALLOW_HTTP=1 on the server to allow it)`
}

/** What one poll did. */
/** Marking definitions kept per feed (the newest): partners define a handful. */
const MAX_DEFINITIONS = 2_000

export interface PollOutcome {
  objects: number
  stored: number
  /** Events the ingest refused, and those not releasable to the feed's organisation (left out). */
  refused: number
  pages: number
}

export class FeedPoller {
  private timer: ReturnType<typeof setInterval> | undefined
  private running = false
  /** The feeds this process is polling now: one poll of a feed at a time. */
  private readonly polling = new Set<string>()
  /**
   * The marking-definition objects each feed has served (by feed, then by id): a partner sends one
   * once, on the page (or in the poll) where it first appeared, and objects of later pages and polls
   * refer to it. Kept while the process runs.
   */
  private readonly definitions = new Map<string, Map<string, unknown>>()
  private readonly holder: string
  private readonly env: Record<string, string | undefined>
  private readonly fetchFn: typeof fetch

  constructor(
    private readonly credentials: CredentialStore,
    private readonly store: EventStore,
    private readonly directory: Directory,
    private readonly owners: () => Promise<Owners>,
    private readonly logger: Logger,
    private readonly options: FeedPollerOptions = {},
  ) {
    this.holder = options.holder ?? `watchfloor-${randomUUID()}`
    this.env = options.env ?? process.env
    this.fetchFn = options.fetchFn ?? fetch
  }

  /** Whether feeds' credentials may go over plain http to any host (WATCHFLOOR_FEED_ALLOW_HTTP). */
  get allowHttp(): boolean {
    return this.options.allowHttp ?? false
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
  }

  /** Poll every enabled feed that is due, one after another. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (const feed of await this.credentials.listFeeds()) {
        if (!feed.enabled) continue
        const state = await this.credentials.getFeedState(feed.id)
        if (state?.nextPollAt && Date.parse(state.nextPollAt) > now) continue
        await this.poll(feed).catch(() => {}) // recorded in its state
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for due feeds')
    } finally {
      this.running = false
    }
  }

  /**
   * Poll one feed now (if no other poll of it runs, here or in another process): every page after
   * its cursor, imported as it arrives. Its state says what happened; a failure backs off
   * (doubling, up to the maximum). Undefined when another poll of it runs.
   */
  async poll(feed: Feed): Promise<PollOutcome | undefined> {
    if (this.polling.has(feed.id)) return undefined
    this.polling.add(feed.id)
    try {
      return await this.pollClaimed(feed)
    } finally {
      this.polling.delete(feed.id)
    }
  }

  private async pollClaimed(feed: Feed): Promise<PollOutcome | undefined> {
    const leaseMs = Math.max(60_000, (this.options.requestTimeoutMs ?? 30_000) * 4)
    if (!(await this.credentials.claimFeed(feed.id, this.holder, leaseMs))) return undefined
    const started = new Date()
    const before = (await this.credentials.getFeedState(feed.id)) ?? undefined
    try {
      const outcome = await this.pull(feed, before)
      await this.credentials.recordFeedState(feed.id, {
        lastAttemptAt: started.toISOString(),
        lastSuccessAt: new Date().toISOString(),
        lastError: null,
        consecutiveFailures: 0,
        nextPollAt: new Date(Date.now() + feed.pollSeconds * 1000).toISOString(),
      })
      return outcome
    } catch (error) {
      const failures = (before?.consecutiveFailures ?? 0) + 1
      const wait = Math.min(feed.pollSeconds * 1000 * 2 ** (failures - 1), this.options.maxBackoffMs ?? 3_600_000)
      const message = error instanceof Error ? error.message : String(error)
      this.logger.warn({ feed: feed.id, failures, err: message }, 'feed poll failed; backing off')
      await this.credentials.recordFeedState(feed.id, {
        lastAttemptAt: started.toISOString(),
        lastError: message,
        consecutiveFailures: failures,
        nextPollAt: new Date(Date.now() + wait).toISOString(),
      })
      throw error
    } finally {
      await this.credentials.releaseFeed(feed.id, this.holder).catch(() => {})
    }
  }

  private async pull(feed: Feed, state: FeedState | undefined): Promise<PollOutcome> {
    const importer = this.importerOf(feed)
    const outcome: PollOutcome = { objects: 0, stored: 0, refused: 0, pages: 0 }
    let cursor = state?.cursor ?? null
    let next: string | undefined
    let imported = state?.objectsImported ?? 0
    let stored = state?.eventsStored ?? 0
    let definitions = this.definitions.get(feed.id)
    if (definitions === undefined) {
      definitions = new Map()
      this.definitions.set(feed.id, definitions)
    }
    for (;;) {
      const page = await this.page(feed, cursor, next)
      outcome.pages++
      if (page.objects.length > 0) {
        const onPage = page.objects.filter(isMarkingDefinition)
        const ids = new Set(onPage.map((object) => object.id))
        // the definitions served before, beside the page that may refer to them
        const earlier = [...definitions].filter(([id]) => !ids.has(id)).map(([, object]) => object)
        const bundle = stixBundle([...earlier, ...page.objects] as Parameters<typeof stixBundle>[0])
        const report = importStix(bundle, {
          defaultMarking: { tlp: feed.defaultTlp },
          organisation: feed.organisation,
        })
        if (report.errors.length > 0)
          throw new Error(
            `the feed sent objects that are not valid STIX 2.1: ${report.errors[0]!.path} ${report.errors[0]!.message}`,
          )
        // kept once the page held (the newest few thousand of a feed)
        for (const object of onPage) {
          definitions.delete(object.id)
          definitions.set(object.id, object)
        }
        while (definitions.size > MAX_DEFINITIONS) definitions.delete(definitions.keys().next().value!)
        // the partner served them to its token's holder: an object whose releasability names
        // others, not the organisation the feed speaks for, was not given to it, and is left out
        // (on this floor that organisation is the events' source, which sees all it sends [V2])
        const receiver = { ...importer, userId: importer.user }
        const releasable = report.events.filter((event) => {
          const named = event.marking?.releasableTo
          return named === undefined || isNamed(receiver, named)
        })
        const result = await importEvents(this.store, importer, releasable, this.owners)
        outcome.objects += page.objects.length
        outcome.stored += result.results.filter((r) => !r.duplicate).length
        outcome.refused += result.refused.length + report.events.length - releasable.length
        imported += page.objects.length
        stored += result.results.filter((r) => !r.duplicate).length
      }
      // the cursor moves only past what was imported: a failure after this page resumes after it
      if (page.addedLast !== undefined) cursor = page.addedLast
      await this.credentials.recordFeedState(feed.id, { cursor, objectsImported: imported, eventsStored: stored })
      if (!page.more || page.next === undefined) break
      next = page.next
    }
    return outcome
  }

  /** One page of the collection's objects after the cursor (TAXII 2.1 section 5.4). */
  private async page(
    feed: Feed,
    cursor: string | null,
    next: string | undefined,
  ): Promise<{ objects: unknown[]; more: boolean; next?: string; addedLast?: string }> {
    const base = feed.url.replace(/\/+$/, '')
    const root = `/${feed.apiRoot.replace(/^\/+|\/+$/g, '')}/`
    const url = new URL(`${base}${root}collections/${encodeURIComponent(feed.collectionId)}/objects/`)
    url.searchParams.set('limit', String(this.options.pageSize ?? 500))
    if (cursor !== null) url.searchParams.set('added_after', cursor)
    if (next !== undefined) url.searchParams.set('next', next)
    const response = await this.fetchFn(url, {
      headers: { accept: TAXII_MEDIA_TYPE, ...this.authorization(feed) },
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
    })
    if (!response.ok) throw new Error(`${url.origin} answered ${response.status} ${response.statusText}`)
    const envelope = (await response.json()) as { more?: unknown; next?: unknown; objects?: unknown }
    const objects = Array.isArray(envelope.objects) ? envelope.objects : []
    const addedLast = response.headers.get('x-taxii-date-added-last') ?? undefined
    return {
      objects,
      more: envelope.more === true,
      ...(typeof envelope.next === 'string' ? { next: envelope.next } : {}),
      ...(addedLast !== undefined ? { addedLast } : {}),
    }
  }

  private authorization(feed: Feed): Record<string, string> {
    if (feed.auth.kind === 'none') return {}
    const refusal = credentialsOverHttp(feed.url, feed.auth, this.allowHttp)
    if (refusal !== undefined) throw new Error(refusal)
    const secret = this.env[feed.auth.secretEnv]
    if (secret === undefined || secret === '')
      throw new Error(`the environment variable ${feed.auth.secretEnv} (the feed's secret) is not set`)
    if (feed.auth.kind === 'bearer') return { authorization: `Bearer ${secret}` }
    return { authorization: `Basic ${Buffer.from(`${feed.auth.username}:${secret}`).toString('base64')}` }
  }

  /** The principal a feed's events are posted as: a sensor of the organisation it speaks for. */
  private importerOf(feed: Feed): Caller {
    const organisation = this.directory.organisation(feed.organisation)
    return {
      user: `feed:${feed.id}`,
      displayName: feed.label,
      organisation: feed.organisation,
      nation: organisation?.nation ?? '',
      roles: ['sensor'],
      sources: [],
      kind: 'api',
      account: null,
      credential: { type: 'static' },
      communities: this.directory.communitiesOf(feed.organisation),
    }
  }
}

function isMarkingDefinition(object: unknown): object is { id: string; type: 'marking-definition' } {
  return (
    typeof object === 'object' &&
    object !== null &&
    (object as { type?: unknown }).type === 'marking-definition' &&
    typeof (object as { id?: unknown }).id === 'string'
  )
}
