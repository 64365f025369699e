/**
 * Partner feeds pulled in: each TAXII 2.1 collection an admin registered is polled with
 * `added_after` and paging, its objects imported as events of the organisation the feed speaks
 * for, through the same import and ingest as `POST /api/v1/import/stix` (markings kept; an
 * unmarked object takes the feed's default TLP). A feed that is down backs off and says why in its
 * state. One process polls a feed at a time (a lease in the credential store), so several server
 * processes on one PostgreSQL log do not import twice; within a process, one poll of a feed at a
 * time (the lease is the process's own, so it alone would not keep a tick and a "poll now" apart).
 * A feed's credentials go over https only, or to a loopback host, unless `allowHttp`.
 *
 * A feed is never followed to another url by itself: a partner that answers a redirect fails the
 * poll, saying where it pointed (an admin changes the feed's url if the partner moved), so that
 * neither its credentials nor its say reach a server the admin did not name (one inside this
 * floor's network, say). A partner's answer is read up to `maxBodyBytes` (32 MiB by default,
 * WATCHFLOOR_FEED_MAX_BODY_BYTES), counted as it streams in; one over it, or one that is not a
 * JSON object, fails the poll saying so.
 *
 * What a partner's markings name is the partner's: its user ids and community ids mean nothing
 * here. So a feed never imports RED (its recipients are the partner's users), and a releasability
 * the partner gave, once it names the organisation the feed speaks for, is narrowed to that
 * organisation alone. The Watchfloor ids its objects carry (`x_watchfloor_incident_id`, ...) are the
 * partner's too: each is read in the feed's own namespace (`<id>@feed:<feed id>`), so a feed reaches
 * only what it created itself, never an incident, advisory or network of this floor's that has the
 * same id. An object that is not valid STIX, or whose marking cannot be read, or that the import
 * fails on, is skipped with its reason; the rest of its page is imported and the cursor moves on.
 * Each poll logs (warn) what it skipped and what the log refused, with the reasons, and answers
 * them in its outcome.
 */
import { randomUUID } from 'node:crypto'
import { feedUser, isNamed, type Owners } from '@watchfloor/core'
import type { EventInput } from '@watchfloor/protocol'
import { markingMeaning, validateStixObject } from '@watchfloor/sharing'
import type { CredentialStore, EventStore, Feed, FeedAuth, FeedState } from '@watchfloor/store'
import type { Logger } from 'pino'
import type { Caller } from '../access/access.ts'
import type { Directory } from '../access/directory.ts'
import { importEvents } from '../write/imports.ts'
import { importPageObjects } from './pageImport.ts'

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
  /**
   * The most one answer of a partner may be, in bytes as read (after any content encoding is
   * undone); one over it fails the poll (WATCHFLOOR_FEED_MAX_BODY_BYTES). Default 32 MiB.
   */
  maxBodyBytes?: number
  /**
   * How long a poll holds its feed's lease, renewed after every page so a long poll keeps it.
   * Default four request deadlines, at least a minute.
   */
  leaseMs?: number
}

/** The most one answer of a partner may be when the options do not say (WATCHFLOOR_FEED_MAX_BODY_BYTES). */
export const DEFAULT_FEED_MAX_BODY_BYTES = 32 * 1024 * 1024

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

/** Marking definitions kept per feed (the newest): partners define a handful. */
const MAX_DEFINITIONS = 2_000
/** Marking definitions asked for by id in one request at most (`match[id]`). */
const ASK_DEFINITIONS_AT_MOST = 50
/** A definition the partner did not give when asked is asked for again after this long. */
const ASK_AGAIN_MS = 3_600_000
/** The most distinct reasons one poll's outcome (and log line) lists; the rest are counted only. */
const MAX_REASONS = 50
/**
 * The most pages one poll reads (500 objects a page by default): a partner whose `next` goes round
 * in a circle would otherwise hold the poll for ever. The next poll goes on from the cursor.
 */
export const MAX_PAGES_PER_POLL = 1_000

/** Why something a poll was served did not enter the log: each reason once, with how many. */
export interface PollReason {
  /** `skipped`: an object left out before the log (invalid, RED, unreadable marking, nothing to map it to); `refused`: an event left out or refused by the log. */
  kind: 'skipped' | 'refused'
  reason: string
  count: number
  /** The STIX id (skipped) or event id (refused) it was first given for. */
  first?: string
}

/** What one poll did. */
export interface PollOutcome {
  /** The objects the partner served. */
  objects: number
  /** The objects that became events the log took as new. */
  imported: number
  /** The events the log took as new (not duplicates). */
  stored: number
  /** Events the ingest refused, and those not releasable to the feed's organisation (left out). */
  refused: number
  /** Objects left out before the log: not valid STIX, RED, a marking that cannot be read, nothing to map them to. */
  skipped: number
  pages: number
  /** Why (at most 50 distinct reasons, each with its count). */
  reasons: PollReason[]
}

/**
 * What a process keeps of a feed between polls: the marking definitions its partner served, and
 * those asked for and not given. They are the partner's, so they are kept for one source only:
 * another url, API root or collection (a PATCH), or another feed of the same id (deleted and made
 * again), starts afresh.
 */
interface FeedMemory {
  /** The feed's url, API root, collection and creation time these were read from. */
  source: string
  /** The marking-definition objects served (by id), the newest last. */
  definitions: Map<string, unknown>
  /** The definitions asked for by id and not given: when. */
  notGiven: Map<string, number>
}

/** The parts of a TAXII objects page a poll reads. */
interface Page {
  objects: unknown[]
  more: boolean
  next?: string
  addedFirst?: string
  addedLast?: string
}

export class FeedPoller {
  private timer: ReturnType<typeof setInterval> | undefined
  private running = false
  /** The feeds this process is polling now: one poll of a feed at a time. */
  private readonly polling = new Set<string>()
  /**
   * By feed id, what the feed's partner served: the marking-definition objects (a partner sends one
   * once, on the page or in the poll where it first appeared, and objects of later pages and polls
   * refer to it), and the definitions asked for by id and not given (not asked again for
   * `ASK_AGAIN_MS`: a statement a partner never serves would otherwise be asked for on every page).
   * Kept while the process runs, for the feed's current source only.
   */
  private readonly memory = new Map<string, FeedMemory>()
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
    const leaseMs = this.options.leaseMs ?? Math.max(60_000, (this.options.requestTimeoutMs ?? 30_000) * 4)
    if (!(await this.credentials.claimFeed(feed.id, this.holder, leaseMs))) return undefined
    const started = new Date()
    const before = (await this.credentials.getFeedState(feed.id)) ?? undefined
    try {
      const outcome = await this.pull(feed, before, leaseMs)
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

  /**
   * Every page after the feed's cursor. One pagination keeps its `added_after` and follows `next`
   * (a server applying both would otherwise skip the objects of the next page added at the same
   * time as the last one of this page); `more` without `next` starts another pagination, after the
   * last `date_added` served. The cursor recorded after each page is a time up to which every
   * object has been imported: a failure on a later page resumes there, reading some objects again
   * (duplicates), never skipping one.
   */
  private async pull(feed: Feed, state: FeedState | undefined, leaseMs: number): Promise<PollOutcome> {
    const importer = this.importerOf(feed)
    const outcome: PollOutcome = { objects: 0, imported: 0, stored: 0, refused: 0, skipped: 0, pages: 0, reasons: [] }
    let imported = state?.objectsImported ?? 0
    let stored = state?.eventsStored ?? 0
    const { definitions } = this.memoryOf(feed)
    /** Every object added up to `cursor` has been imported. */
    let cursor = state?.cursor ?? null
    /** This pagination's `added_after`. */
    let addedAfter = cursor
    let next: string | undefined
    /** The last `date_added` served in this pagination. */
    let addedLast: string | undefined
    /** Objects asked for per page: halved for the rest of the poll when a page is over the size cap. */
    let limit = this.options.pageSize ?? 500
    try {
      for (;;) {
        let page: Page
        try {
          page = await this.page(feed, addedAfter, next, {}, limit)
        } catch (error) {
          // a page of large objects: the same page again, with fewer of them, down to one
          if (!(error instanceof AnswerTooLarge) || limit <= 1) throw error
          limit = Math.ceil(limit / 2)
          this.logger.info(
            { feed: feed.id, limit },
            'a feed page was over the size cap; asking for fewer objects a page',
          )
          continue
        }
        outcome.pages++
        outcome.objects += page.objects.length
        if (page.objects.length > 0) {
          const counts = await this.importPage(feed, importer, definitions, page.objects, outcome)
          imported += counts.imported
          stored += counts.stored
        }
        const ended = !page.more || page.next === undefined
        if (page.objects.length > 0 && page.addedLast !== undefined) {
          // what the next page holds was added at `addedLast` or later: all before it is imported
          const before =
            page.addedFirst !== undefined && earlier(page.addedFirst, page.addedLast)
              ? page.addedFirst
              : addedLast !== undefined && earlier(addedLast, page.addedLast)
                ? addedLast
                : undefined
          addedLast = page.addedLast
          if (ended) cursor = page.addedLast
          else if (before !== undefined && (cursor === null || earlier(cursor, before))) cursor = before
        } else if (ended && addedLast !== undefined) cursor = addedLast
        await this.credentials.recordFeedState(feed.id, { cursor, objectsImported: imported, eventsStored: stored })
        if (!page.more) break
        // the lease is renewed page by page: a poll longer than one lease keeps its feed to itself; one
        // that lost it (a stall past the lease, and another process took it) stops here, its cursor
        // recorded: the other goes on from there
        if (!(await this.credentials.claimFeed(feed.id, this.holder, leaseMs))) {
          this.logger.warn(
            { feed: feed.id, pages: outcome.pages },
            "another process took the feed's lease during the poll; this poll stops here",
          )
          break
        }
        if (outcome.pages >= MAX_PAGES_PER_POLL) {
          this.logger.warn(
            { feed: feed.id, pages: outcome.pages },
            'the poll read as many pages as one poll may; the next goes on',
          )
          break
        }
        if (page.next !== undefined) {
          if (page.next === next) {
            this.logger.warn({ feed: feed.id, next }, 'the feed answered the same next again; the poll stops here')
            break
          }
          next = page.next
          continue
        }
        // more, without next: the server pages by `added_after` alone (TAXII 2.1 section 3.4)
        if (addedLast === undefined || (addedAfter !== null && !earlier(addedAfter, addedLast))) {
          this.logger.warn(
            { feed: feed.id, addedAfter, addedLast },
            'the feed said there is more, without next nor a later X-TAXII-Date-Added-Last; the poll stops here',
          )
          break
        }
        addedAfter = addedLast
        next = undefined
        addedLast = undefined
      }
    } finally {
      this.report(feed, outcome)
    }
    return outcome
  }

  /**
   * What this process keeps of a feed's partner: afresh when the feed reads another source than
   * what was kept was read from (its url, API root or collection changed, or it is another feed of
   * the same id), whose definitions could say anything of this one's objects.
   */
  private memoryOf(feed: Feed): FeedMemory {
    const source = JSON.stringify([feed.url, feed.apiRoot, feed.collectionId, feed.createdAt])
    let memory = this.memory.get(feed.id)
    if (memory === undefined || memory.source !== source) {
      memory = { source, definitions: new Map(), notGiven: new Map() }
      this.memory.set(feed.id, memory)
    }
    return memory
  }

  /** One page into the log: what became events, what was skipped and refused (into `outcome`). */
  private async importPage(
    feed: Feed,
    importer: Caller,
    definitions: Map<string, unknown>,
    objects: readonly unknown[],
    outcome: PollOutcome,
  ): Promise<{ imported: number; stored: number }> {
    // each object checked alone: one that is not valid STIX is skipped, never the page
    const valid: unknown[] = []
    for (const object of objects) {
      const issues = validateStixObject(object)
      if (issues.length === 0) valid.push(object)
      else {
        const issue = issues[0]!
        const at = issue.path === '(root)' ? '' : `${issue.path}: `
        skip(outcome, 'skipped', `not valid STIX 2.1: ${at}${issue.message}`, idOf(object))
      }
    }
    if (valid.length === 0) return { imported: 0, stored: 0 }
    const onPage = valid.filter(isMarkingDefinition)
    const ids = new Set(onPage.map((object) => object.id))
    // a definition served before this process polled the feed (a restart, another process) is
    // asked for by id: without it, objects it alone marks would be skipped
    const missing = markingsNotAtHand(valid, definitions, ids)
    if (missing.length > 0) await this.askDefinitions(feed, missing, definitions)
    // the definitions served before, beside the page that may refer to them
    const earlierDefinitions = [...definitions].filter(([id]) => !ids.has(id))
    // each object imported or skipped, never the page failed: the cursor moves past it
    const report = importPageObjects(
      valid,
      earlierDefinitions.map(([, object]) => object),
      {
        defaultMarking: { tlp: feed.defaultTlp },
        organisation: feed.organisation,
        // the ids the partner's objects carry are the partner's: read in this feed's namespace
        partner: feedUser(feed.id),
      },
    )
    if (report.failed !== undefined)
      this.logger.warn(
        { feed: feed.id, err: report.failed },
        "feed: the page's import failed as a whole; its objects were imported one by one",
      )
    // kept once the page held (the newest few thousand of a feed)
    for (const object of onPage) {
      definitions.delete(object.id)
      definitions.set(object.id, object)
    }
    while (definitions.size > MAX_DEFINITIONS) definitions.delete(definitions.keys().next().value!)
    const fromBefore = new Set(earlierDefinitions.map(([id]) => id))
    for (const left of report.skipped)
      if (left.stixId === undefined || !fromBefore.has(left.stixId)) skip(outcome, 'skipped', left.reason, left.stixId)

    const objectOf = new Map<string, string>()
    for (const created of report.created) for (const eventId of created.eventIds) objectOf.set(eventId, created.stixId)
    // the partner served them to its token's holder: an object whose releasability names others,
    // not the organisation the feed speaks for, was not given to it, and is left out (on this floor
    // that organisation is the events' source, which sees all it sends [V2])
    const receiver = { ...importer, userId: importer.user }
    const red = new Set<string>()
    const defaulted = new Set(report.defaulted)
    const events: EventInput[] = []
    for (const event of report.events) {
      const stixId = objectOf.get(event.id)
      const marking = event.marking
      if (marking?.tlp === 'RED') {
        // its recipients are the partner's user ids: here they would name whoever has the same id
        if (stixId !== undefined && !red.has(stixId)) {
          red.add(stixId)
          const why = defaulted.has(stixId)
            ? "unmarked, it takes the feed's defaultTlp, RED; a feed never imports RED"
            : "TLP:RED: its recipients are the partner's users, whom no id here names; a feed never imports RED"
          skip(outcome, 'skipped', why, stixId)
        }
        continue
      }
      const named = marking?.releasableTo
      if (named !== undefined && !isNamed(receiver, named)) {
        skip(
          outcome,
          'refused',
          `not releasable to ${feed.organisation}: the partner released it to ${named.length === 0 ? 'no one beyond its source' : named.join(', ')}`,
          event.id,
        )
        continue
      }
      // released to the organisation the feed speaks for; what the partner's other names mean here
      // (its communities, its organisations) is unknown: never wider than to that organisation
      events.push(
        marking === undefined || named === undefined
          ? event
          : { ...event, marking: { ...marking, releasableTo: [feed.organisation] } },
      )
    }
    const result = await importEvents(this.store, importer, events, this.owners)
    for (const refusal of result.refused) skip(outcome, 'refused', `${refusal.code}: ${refusal.message}`, refusal.id)
    const fresh = new Set(result.results.filter((r) => !r.duplicate).map((r) => r.id))
    const importedObjects = report.created.filter((created) => created.eventIds.some((id) => fresh.has(id))).length
    outcome.imported += importedObjects
    outcome.stored += fresh.size
    return { imported: importedObjects, stored: fresh.size }
  }

  /**
   * Asks the collection for marking definitions by id (`match[id]`, TAXII 2.1 section 3.4.1): what
   * it gives (valid marking definitions with those ids, nothing else of the answer) joins the feed's
   * definitions. A partner that cannot filter, or refuses, costs nothing more than the objects those
   * definitions mark being skipped, as they would be without asking.
   */
  private async askDefinitions(
    feed: Feed,
    wanted: readonly string[],
    definitions: Map<string, unknown>,
  ): Promise<void> {
    const { notGiven } = this.memoryOf(feed)
    const now = Date.now()
    for (const [id, at] of notGiven) if (now - at >= ASK_AGAIN_MS) notGiven.delete(id)
    const ask = wanted.filter((id) => !notGiven.has(id)).slice(0, ASK_DEFINITIONS_AT_MOST)
    if (ask.length === 0) return
    const given = new Set<string>()
    try {
      const page = await this.page(feed, null, undefined, {
        'match[id]': ask.join(','),
        'match[type]': 'marking-definition',
      })
      const asked = new Set(ask)
      for (const object of page.objects)
        if (isMarkingDefinition(object) && asked.has(object.id) && validateStixObject(object).length === 0) {
          definitions.delete(object.id)
          definitions.set(object.id, object)
          given.add(object.id)
        }
      while (definitions.size > MAX_DEFINITIONS) definitions.delete(definitions.keys().next().value!)
    } catch (error) {
      this.logger.info(
        { feed: feed.id, ids: ask, err: error instanceof Error ? error.message : String(error) },
        'feed: asking for marking definitions by id failed',
      )
    }
    for (const id of ask) if (!given.has(id)) notGiven.set(id, now)
  }

  /** A poll's skips and refusals, at warn when there are any: they are kept nowhere else. */
  private report(feed: Feed, outcome: PollOutcome): void {
    const { objects, imported, stored, skipped, refused, pages, reasons } = outcome
    if (skipped === 0 && refused === 0) return
    this.logger.warn(
      { feed: feed.id, objects, imported, stored, skipped, refused, pages, reasons },
      'feed poll: some of what the partner served did not enter the log',
    )
  }

  /** One page of the collection's objects after the cursor (TAXII 2.1 section 5.4). */
  private async page(
    feed: Feed,
    cursor: string | null,
    next: string | undefined,
    filters: Record<string, string> = {},
    limit = this.options.pageSize ?? 500,
  ): Promise<Page> {
    const base = feed.url.replace(/\/+$/, '')
    const root = `/${feed.apiRoot.replace(/^\/+|\/+$/g, '')}/`
    const url = new URL(`${base}${root}collections/${encodeURIComponent(feed.collectionId)}/objects/`)
    url.searchParams.set('limit', String(limit))
    if (cursor !== null) url.searchParams.set('added_after', cursor)
    if (next !== undefined) url.searchParams.set('next', next)
    for (const [name, value] of Object.entries(filters)) url.searchParams.set(name, value)
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000
    const response = await this.fetchFn(url, {
      headers: { accept: TAXII_MEDIA_TYPE, ...this.authorization(feed) },
      // a redirect is never followed: where a feed is read is the admin's to say, not the partner's
      redirect: 'manual',
      // the body's read too: a partner that trickles its answer does not hold the poll for ever
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: unknown) => {
      throw new Error(unreachable(url.origin, error, timeoutMs), { cause: error })
    })
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await discard(response)
      throw new Error(
        `${url.origin} answered ${response.status || 'a redirect'}, a redirect to ${redirectTarget(response, url)}: a feed is never followed to another url by itself; if the partner moved, an admin must change the feed's url`,
      )
    }
    if (!response.ok) {
      await discard(response)
      throw new Error(`${url.origin} answered ${response.status} ${response.statusText}`)
    }
    const text = await this.bodyOf(url, response).catch((error: unknown) => {
      if (error instanceof AnswerTooLarge) throw error
      throw new Error(unreachable(url.origin, error, timeoutMs), { cause: error })
    })
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      const type = (response.headers.get('content-type') ?? 'none').slice(0, 100)
      // the parser's own words ("Unexpected token '<'") tell an admin nothing they can act on
      const page =
        /html/i.test(type) || /^\s*</.test(text) ? ': a web page, not a TAXII API; check the url and the API root' : ''
      throw new Error(
        `${url.origin} answered ${response.status} with a body that is not JSON (content-type ${type})${page}`,
      )
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${url.origin} answered ${response.status} with JSON that is not a TAXII envelope (an object)`)
    const envelope = parsed as { more?: unknown; next?: unknown; objects?: unknown }
    const objects = Array.isArray(envelope.objects) ? envelope.objects : []
    const addedFirst = response.headers.get('x-taxii-date-added-first') ?? undefined
    const addedLast = response.headers.get('x-taxii-date-added-last') ?? undefined
    return {
      objects,
      more: envelope.more === true,
      ...(typeof envelope.next === 'string' ? { next: envelope.next } : {}),
      ...(addedFirst !== undefined ? { addedFirst } : {}),
      ...(addedLast !== undefined ? { addedLast } : {}),
    }
  }

  /**
   * A partner's answer as text, read as it streams in, up to `maxBodyBytes` (counted as read, so
   * after any content encoding is undone): a Content-Length over it fails at once, unread; a body
   * that goes over it is dropped there, never held whole.
   */
  private async bodyOf(url: URL, response: Response): Promise<string> {
    const cap = this.options.maxBodyBytes ?? DEFAULT_FEED_MAX_BODY_BYTES
    const most = `more than ${bytes(cap)}, the most one answer of a partner may be (WATCHFLOOR_FEED_MAX_BODY_BYTES); ask the partner for smaller pages, or raise it`
    const declared = Number(response.headers.get('content-length') ?? Number.NaN)
    if (Number.isFinite(declared) && declared > cap) {
      await discard(response)
      throw new AnswerTooLarge(`${url.origin} answered ${declared} bytes (its Content-Length), ${most}`)
    }
    if (response.body === null) return ''
    const reader = response.body.getReader()
    const chunks: Uint8Array[] = []
    let read = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      read += value.byteLength
      if (read > cap) {
        await reader.cancel().catch(() => {})
        throw new AnswerTooLarge(`${url.origin} answered ${most}`)
      }
      chunks.push(value)
    }
    return new TextDecoder().decode(Buffer.concat(chunks))
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
      // the one user id that posts in this feed's namespace [A9]: no account or token may be given it
      user: feedUser(feed.id),
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

/**
 * The marking-definition ids the objects refer to (object and granular markings) that are neither
 * well known (TLP, PAP) nor at hand: on the page (`onPage`) or served before (`definitions`).
 */
function markingsNotAtHand(
  objects: readonly unknown[],
  definitions: ReadonlyMap<string, unknown>,
  onPage: ReadonlySet<string>,
): string[] {
  const missing = new Set<string>()
  const consider = (ref: unknown) => {
    if (typeof ref !== 'string' || onPage.has(ref) || definitions.has(ref) || missing.has(ref)) return
    if (markingMeaning(ref).unresolved) missing.add(ref)
  }
  for (const object of objects) {
    const { object_marking_refs: refs, granular_markings: granular } = object as {
      object_marking_refs?: unknown
      granular_markings?: unknown
    }
    if (Array.isArray(refs)) for (const ref of refs) consider(ref)
    if (Array.isArray(granular))
      for (const marking of granular) consider((marking as { marking_ref?: unknown } | null)?.marking_ref)
  }
  return [...missing]
}

/** An answer not read: its body let go, so that its connection is not held. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {})
}

/**
 * Where a redirect points, to say so: scheme, host and path only (credentials, a query or a
 * fragment in its Location may hold a secret), at most 300 characters.
 */
function redirectTarget(response: Response, from: URL): string {
  const location = response.headers.get('location')
  if (location === null) return 'nowhere it says (no Location)'
  let target: URL
  try {
    target = new URL(location, from)
  } catch {
    return 'a Location that is not a URL'
  }
  const shown = `${target.protocol}//${target.host}${target.pathname}`
  return shown.length > 300 ? `${shown.slice(0, 300)}...` : shown
}

/** TLS refusals of the partner's certificate, as Node's TLS layer names them. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/**
 * Why a partner could not be read, in words an admin can act on. `fetch` says only "fetch failed":
 * the reason is its `cause` (a DNS, connection or TLS error, by code); a timeout is its own error.
 */
export function unreachable(origin: string, error: unknown, timeoutMs: number): string {
  const failure = error as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown } | null
  const cause = (failure?.cause ?? null) as { code?: unknown; message?: unknown } | null
  if (failure?.name === 'TimeoutError' || failure?.name === 'AbortError')
    return `${origin} did not answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`
  const code = String(cause?.code ?? failure?.code ?? '')
  switch (code) {
    case 'ENOTFOUND':
      return `${origin}: no such host (its name was not found)`
    case 'EAI_AGAIN':
      return `${origin}: its name could not be looked up just now (DNS); try again later`
    case 'ECONNREFUSED':
      return `${origin} refused the connection (nothing listens there)`
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${origin} closed the connection before it answered`
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `${origin} could not be reached in time`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${origin} cannot be reached from this server (no route to it)`
  }
  // fetch never connects to the ports the Fetch standard blocks (9, 25, 6000...): undici says "bad port"
  if (cause?.message === 'bad port')
    return `${origin}: fetch never connects to that port (one the Fetch standard blocks); the partner must serve TAXII on another`
  if (CERTIFICATE_CODES.has(code)) return `${origin}'s TLS certificate is not trusted here (${code})`
  if (code === 'EPROTO' || code.startsWith('ERR_SSL')) return `${origin}: the TLS handshake failed (is it HTTPS there?)`
  const words = typeof cause?.message === 'string' ? cause.message : String(failure?.message ?? error)
  return `${origin} could not be read: ${words}`
}

const MiB = 1024 * 1024

/** A size as an operator reads it: `32 MiB (33554432 bytes)`, or bytes alone. */
function bytes(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB (${n} bytes)` : `${n} bytes`
}

function isMarkingDefinition(object: unknown): object is { id: string; type: 'marking-definition' } {
  return (
    typeof object === 'object' &&
    object !== null &&
    (object as { type?: unknown }).type === 'marking-definition' &&
    typeof (object as { id?: unknown }).id === 'string'
  )
}

/** A skipped object or a refused event, counted under its reason (the first `MAX_REASONS` reasons listed). */
function skip(outcome: PollOutcome, kind: PollReason['kind'], reason: string, first: string | undefined): void {
  if (kind === 'skipped') outcome.skipped++
  else outcome.refused++
  const known = outcome.reasons.find((r) => r.kind === kind && r.reason === reason)
  if (known !== undefined) known.count++
  else if (outcome.reasons.length < MAX_REASONS)
    outcome.reasons.push({ kind, reason, count: 1, ...(first === undefined ? {} : { first }) })
}

/** The STIX id of something served, when it has one. */
function idOf(object: unknown): string | undefined {
  const id = typeof object === 'object' && object !== null ? (object as { id?: unknown }).id : undefined
  return typeof id === 'string' ? id.slice(0, 200) : undefined
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/i

/**
 * Whether timestamp `a` is strictly before `b` (RFC 3339 in UTC, any precision, as TAXII servers
 * write `date_added`); false when either is not such a timestamp, so an unreadable one never moves
 * the cursor past anything.
 */
export function earlier(a: string, b: string): boolean {
  const x = TIMESTAMP.exec(a)
  const y = TIMESTAMP.exec(b)
  if (x === null || y === null) return false
  if (x[1] !== y[1]) return x[1]!.toUpperCase() < y[1]!.toUpperCase()
  const width = Math.max(x[2]?.length ?? 0, y[2]?.length ?? 0)
  return (x[2] ?? '').padEnd(width, '0') < (y[2] ?? '').padEnd(width, '0')
}

/** A partner's answer over `maxBodyBytes`: the poll asks again for fewer objects a page, down to one. */
class AnswerTooLarge extends Error {}
