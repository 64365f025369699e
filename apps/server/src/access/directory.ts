/**
 * The directory as the server reads it: organisations and communities, cached in memory and
 * loaded again whenever the credential store says it changed (in this process, and from other
 * processes on PostgreSQL), every `reloadMs` besides (a notification lost while the listening
 * connection was down, a row changed by hand), and soon after a load that failed. A viewer's
 * communities and nation come from here when it authenticates [V10].
 */
import {
  type Community,
  type CredentialStore,
  type NewOrganisation,
  ORGANISATION_KINDS,
  type Organisation,
} from '@watchfloor/store'
import type { Logger } from 'pino'
import { checkUserIdsAtStart, type KnownPrincipal } from './userIds.ts'

export interface DirectoryOptions {
  /** Load again this often, changed or not (WATCHFLOOR_DIRECTORY_RELOAD_MS). */
  reloadMs: number
  /** After a failed load, try again after this long, doubling up to `reloadMs`. */
  retryMs?: number
}

/** WATCHFLOOR_DIRECTORY_RELOAD_MS when unset. */
export const DEFAULT_DIRECTORY_RELOAD_MS = 30_000

export class Directory {
  private organisations = new Map<string, Organisation>()
  private communities = new Map<string, Community>()
  private memberOf = new Map<string, string[]>()
  private loading: Promise<void> | undefined
  private again = false
  private readonly listeners = new Set<() => void>()
  private unwatch: (() => void) | undefined
  private reloadTimer: ReturnType<typeof setInterval> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  /** Loads that failed in a row. */
  private failures = 0
  private stopped = false

  constructor(
    private readonly credentials: CredentialStore,
    private readonly logger: Logger,
    private readonly options: DirectoryOptions = { reloadMs: DEFAULT_DIRECTORY_RELOAD_MS },
  ) {}

  /**
   * Load now, then again on every directory change and every `reloadMs`; a failed load is tried
   * again sooner. Listeners hear of each load that changed something, however it was started.
   */
  async start(): Promise<void> {
    this.stopped = false
    this.unwatch = this.credentials.onChange((change) => {
      if (change.type === 'directory') void this.load()
    })
    this.reloadTimer = setInterval(() => void this.load(), this.options.reloadMs)
    this.reloadTimer.unref()
    await this.load()
  }

  stop(): void {
    this.stopped = true
    this.unwatch?.()
    clearInterval(this.reloadTimer)
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  /**
   * Read the directory from the store (one load at a time; a change during a load loads once
   * more after it). Routes that change the directory await it, so the next request sees it.
   */
  load(): Promise<void> {
    if (this.loading) {
      this.again = true
      return this.loading
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false
          const [organisations, communities] = await Promise.all([
            this.credentials.listOrganisations(),
            this.credentials.listCommunities(),
          ])
          this.replace(organisations, communities)
        } while (this.again)
        this.loaded()
      } catch (error) {
        this.failed(error)
      } finally {
        this.loading = undefined
      }
    })()
    return this.loading
  }

  private loaded(): void {
    this.failures = 0
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  /** Keep the last directory, and try again soon: after `retryMs`, doubling up to `reloadMs`. */
  private failed(error: unknown): void {
    this.failures++
    const { reloadMs, retryMs = Math.min(1000, reloadMs) } = this.options
    const delay = Math.min(reloadMs, retryMs * 2 ** Math.min(this.failures - 1, 20))
    this.logger.warn(
      { err: error, failures: this.failures, retryInMs: delay },
      'could not load the directory; keeping the last one',
    )
    if (this.stopped || this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (!this.stopped) void this.load()
    }, delay)
    this.retryTimer.unref()
  }

  /** The communities an organisation belongs to, sorted (none: empty). */
  communitiesOf(organisation: string): string[] {
    return this.memberOf.get(organisation) ?? []
  }

  organisation(id: string): Organisation | undefined {
    return this.organisations.get(id)
  }

  community(id: string): Community | undefined {
    return this.communities.get(id)
  }

  /** Is this the nation of an organisation of the directory? */
  isNation(name: string): boolean {
    for (const organisation of this.organisations.values()) if (organisation.nation === name) return true
    return false
  }

  listOrganisations(): Organisation[] {
    return [...this.organisations.values()]
  }

  listCommunities(): Community[] {
    return [...this.communities.values()]
  }

  /** Called after each load that changed a membership or an entry. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Make sure every organisation something already belongs to is in the directory (static
   * tokens, accounts and service tokens from before the directory existed): each missing one is
   * added with its id as its name, and the kind its nation suggests (an alliance body when the
   * nation is not a two-letter country code). Returns the ids it added. One that is there with
   * another nation keeps it: its people are of the directory's nation (said once, as a warning).
   *
   * A start calls this with every principal it knows before it serves, so it also refuses to go on
   * (throws, adding nothing) when a static token gives a user id to a second organisation, and
   * warns of one user id held in two organisations within the store (`checkUserIdsAtStart`).
   */
  async ensure(principals: Iterable<KnownPrincipal>): Promise<string[]> {
    const known = [...principals]
    checkUserIdsAtStart(known, this.logger)
    const added: string[] = []
    const differ = new Set<string>()
    for (const { organisation, nation } of known) {
      const there = this.organisations.get(organisation)
      if (there !== undefined && there.nation !== nation && !differ.has(organisation)) {
        differ.add(organisation)
        this.logger.warn(
          { organisation, nation: there.nation, configured: nation },
          'a principal names another nation than its organisation in the directory; the directory holds',
        )
      }
      if (there !== undefined || added.includes(organisation)) continue
      if (await this.create({ id: organisation, name: organisation, nation })) added.push(organisation)
    }
    if (added.length > 0) await this.load()
    return added
  }

  /**
   * Make sure each of `organisations` is in the directory, under the name given: one that is there
   * already keeps its entry (an admin's name and nation win), but for a name that is only its id
   * (as `ensure` adds a principal's organisation), which takes the name given. Returns the ids it
   * added or named. The demo scenario's organisations, which its relay posts for, come in this way
   * with their names [V10].
   */
  async ensureNamed(organisations: Iterable<{ id: string; name: string; nation: string }>): Promise<string[]> {
    const changed: string[] = []
    for (const organisation of organisations) {
      if (changed.includes(organisation.id)) continue
      const there = this.organisations.get(organisation.id)
      if (there === undefined) {
        if (await this.create(organisation)) changed.push(organisation.id)
      } else if (there.name === there.id && organisation.name !== there.name) {
        try {
          if (await this.credentials.updateOrganisation(organisation.id, { name: organisation.name }))
            changed.push(organisation.id)
        } catch (error) {
          // a name the store refuses: the entry stays as it is, said once, and the start goes on
          this.logger.warn(
            { err: error, organisation: organisation.id },
            'could not name an organisation of the directory',
          )
        }
      }
    }
    if (changed.length > 0) await this.load()
    return changed
  }

  /** Add one organisation, of the kind its nation suggests (an alliance body unless a two-letter country code). */
  private async create({ id, name, nation }: { id: string; name: string; nation: string }): Promise<boolean> {
    const entry: NewOrganisation = { id, name, nation, kind: /^[A-Z]{2}$/.test(nation) ? 'ally_cert' : 'alliance_body' }
    try {
      await this.credentials.createOrganisation(entry)
      return true
    } catch (error) {
      // another process added it meanwhile, or the id is a community's: say so, go on
      this.logger.warn({ err: error, organisation: id }, 'could not add an organisation to the directory')
      return false
    }
  }

  private replace(organisations: Organisation[], communities: Community[]): void {
    const before = JSON.stringify([[...this.organisations.values()], [...this.communities.values()]])
    this.organisations = new Map(organisations.map((o) => [o.id, o]))
    this.communities = new Map(communities.map((c) => [c.id, c]))
    const memberOf = new Map<string, string[]>()
    for (const community of communities)
      for (const member of community.members) memberOf.set(member, [...(memberOf.get(member) ?? []), community.id])
    for (const list of memberOf.values()) list.sort()
    this.memberOf = memberOf
    if (JSON.stringify([organisations, communities]) !== before) for (const listener of this.listeners) listener()
  }
}

export { ORGANISATION_KINDS }
