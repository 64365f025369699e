/**
 * The directory as the server reads it: organisations and communities, cached in memory and
 * loaded again whenever the credential store says it changed (in this process, and from other
 * processes on PostgreSQL). A viewer's communities come from here when it authenticates [V10].
 */
import {
  type Community,
  type CredentialStore,
  type NewOrganisation,
  ORGANISATION_KINDS,
  type Organisation,
} from '@watchfloor/store'
import type { Logger } from 'pino'

export class Directory {
  private organisations = new Map<string, Organisation>()
  private communities = new Map<string, Community>()
  private memberOf = new Map<string, string[]>()
  private loading: Promise<void> | undefined
  private again = false
  private readonly listeners = new Set<() => void>()
  private unwatch: (() => void) | undefined

  constructor(
    private readonly credentials: CredentialStore,
    private readonly logger: Logger,
  ) {}

  /** Load now, then again on every directory change; listeners hear of each load that changed something. */
  async start(): Promise<void> {
    await this.load()
    this.unwatch = this.credentials.onChange((change) => {
      if (change.type === 'directory') void this.load()
    })
  }

  stop(): void {
    this.unwatch?.()
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
      } catch (error) {
        this.logger.warn({ err: error }, 'could not load the directory; keeping the last one')
      } finally {
        this.loading = undefined
      }
    })()
    return this.loading
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
   * nation is not a two-letter country code). Returns the ids it added.
   */
  async ensure(known: Iterable<{ organisation: string; nation: string }>): Promise<string[]> {
    const added: string[] = []
    for (const { organisation, nation } of known) {
      if (this.organisations.has(organisation) || added.includes(organisation)) continue
      const entry: NewOrganisation = {
        id: organisation,
        name: organisation,
        nation,
        kind: /^[A-Z]{2}$/.test(nation) ? 'ally_cert' : 'alliance_body',
      }
      try {
        await this.credentials.createOrganisation(entry)
        added.push(organisation)
      } catch (error) {
        // another process added it meanwhile, or the id is a community's: say so, go on
        this.logger.warn({ err: error, organisation }, 'could not add an organisation to the directory')
      }
    }
    if (added.length > 0) await this.load()
    return added
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
