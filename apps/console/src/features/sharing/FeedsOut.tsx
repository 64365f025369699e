/**
 * Feeds out: what partners can pull from this floor, each with a copy button and how to use it: the
 * TAXII 2.1 discovery URL and API root, the collections (named as the server names them, see
 * outbound.ts: the console does not call `/taxii2/`, which takes no session cookie), and the MISP
 * feed. A partner reads them with an API token of its own, and gets what that token may see.
 *
 * Then what partners did pull (`GET /api/v1/feeds/out`), for admins (every organisation), liaisons
 * and coordinators (their own organisation's): a row per organisation and channel with the last
 * pull, the last success, the pulls and the refused ones, the objects served and the last error;
 * read again every 15 s while the page is open, and with the page's Reload.
 */
import type { FeedOutActivity } from '@watchfloor/protocol'
import { useCallback, useEffect, useRef, useState } from 'react'
import { formatTime } from '../../ui/format.ts'
import {
  type Community,
  describeFormError,
  type FormError,
  formErrorOf,
  headlineOf,
  type Organisation,
} from './directory.ts'
import { Copyable } from './forms.tsx'
import {
  CHANNEL_LABELS,
  curlOf,
  describePullError,
  FEEDS_OUT_REFRESH_MS,
  loadFeedsOut,
  mispFeedUrl,
  outboundCollections,
  PULL_HEALTH_LABELS,
  type PullHealth,
  pullHealth,
  taxiiApiRootUrl,
  taxiiDiscoveryUrl,
} from './outbound.ts'

const count = (n: number) => n.toLocaleString('en-GB')
/** The badge classes of the feeds-in table, reused. */
const BADGE: Readonly<Record<PullHealth, string>> = { ok: 'ok', failing: 'failing', never: 'new' }

type Loaded = { activity: FeedOutActivity[] | null; at: string | null; loading: boolean; error: FormError | null }

/** The table of what partners pulled: read on mount, every 15 s, and whenever `reloadKey` changes. */
function PullActivity({
  organisations,
  organisation,
  everyOrganisation,
  reloadKey,
}: {
  organisations: readonly Organisation[]
  organisation: string
  everyOrganisation: boolean
  reloadKey: number
}) {
  const [loaded, setLoaded] = useState<Loaded>({ activity: null, at: null, loading: true, error: null })
  const latest = useRef(0)
  const reload = useCallback(async () => {
    const call = ++latest.current
    setLoaded((l) => ({ ...l, loading: true }))
    try {
      const activity = await loadFeedsOut()
      if (call === latest.current) setLoaded({ activity, at: new Date().toISOString(), loading: false, error: null })
    } catch (error) {
      if (call === latest.current) setLoaded((l) => ({ ...l, loading: false, error: formErrorOf(error) }))
    }
  }, [])
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey is the page's Reload
  useEffect(() => {
    void reload()
    const timer = setInterval(() => void reload(), FEEDS_OUT_REFRESH_MS)
    return () => clearInterval(timer)
  }, [reload, reloadKey])
  const names = new Map(organisations.map((o) => [o.id, o.name]))
  const { activity } = loaded
  return (
    <div className="feeds-out-activity" data-testid="feeds-out-activity" aria-busy={loaded.loading}>
      <h3 id="sharing-feeds-out-activity">
        Partners pulling {activity && <span className="muted">({activity.length})</span>}
      </h3>
      <p className="muted sharing-intro">
        {everyOrganisation
          ? 'Every organisation’s pulls over TAXII and the MISP feed, by the organisation of the token that pulled.'
          : `The pulls made with tokens of ${organisation}; other organisations’ are theirs.`}{' '}
        Refused pulls count too.
        {loaded.at && (
          <>
            {' '}
            Read <span className="mono">{formatTime(loaded.at)}</span>.
          </>
        )}
      </p>
      {loaded.error && (
        <div className="command-error" role="alert" data-testid="feeds-out-activity-error">
          <strong>{headlineOf(loaded.error.code)}:</strong> {describeFormError(loaded.error)}
        </div>
      )}
      {!activity && loaded.loading && <p className="muted">Loading what partners pulled…</p>}
      {activity &&
        (activity.length === 0 ? (
          <p className="empty" data-testid="feeds-out-activity-empty">
            {everyOrganisation ? 'No partner has pulled yet.' : `No token of ${organisation} has pulled yet.`}
          </p>
        ) : (
          <table
            className="table sharing-table feeds-out-table"
            data-testid="feeds-out-activity-table"
            aria-labelledby="sharing-feeds-out-activity"
          >
            <thead>
              <tr>
                <th scope="col">Organisation</th>
                <th scope="col">Channel</th>
                <th scope="col">Last pull (UTC)</th>
                <th scope="col">Last success (UTC)</th>
                <th scope="col" className="num">
                  Pulls
                </th>
                <th scope="col" className="num">
                  Refused
                </th>
                <th scope="col" className="num">
                  Objects served
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {activity.map((a) => {
                const health = pullHealth(a)
                return (
                  <tr
                    key={`${a.organisation}/${a.channel}`}
                    data-testid="feeds-out-pull"
                    data-organisation={a.organisation}
                    data-channel={a.channel}
                    data-health={health}
                  >
                    <td>
                      <span className="mono">{a.organisation}</span>
                      {names.has(a.organisation) && <div className="muted">{names.get(a.organisation)}</div>}
                    </td>
                    <td>
                      {CHANNEL_LABELS[a.channel]}
                      <div>
                        <span className={`feed-health feed-health-${BADGE[health]}`} data-testid="feeds-out-health">
                          {PULL_HEALTH_LABELS[health]}
                        </span>
                      </div>
                    </td>
                    <td className="mono nowrap" data-testid="feeds-out-last-pull">
                      {formatTime(a.lastPullAt)}
                    </td>
                    <td className="mono nowrap" data-testid="feeds-out-last-success">
                      {a.lastSuccessAt ? formatTime(a.lastSuccessAt) : <span className="muted">never</span>}
                    </td>
                    <td className="num" data-testid="feeds-out-pulls">
                      {count(a.pulls)}
                    </td>
                    <td className="num" data-testid="feeds-out-failed">
                      {count(a.failedPulls)}
                    </td>
                    <td className="num nowrap" data-testid="feeds-out-objects">
                      {count(a.objectsServed)}
                      <div className="muted">{count(a.lastPullObjects)} in the last pull</div>
                    </td>
                    <td data-testid="feeds-out-last-error">
                      {a.lastError ? (
                        <>
                          <span data-testid="feeds-out-last-error-message">{describePullError(a.lastError)}</span>
                          <div className="mono muted">{formatTime(a.lastError.at)}</div>
                        </>
                      ) : (
                        <span className="muted">none</span>
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        ))}
    </div>
  )
}

export function FeedsOut({
  communities,
  organisation,
  organisations = [],
  activityShown = false,
  everyOrganisation = false,
  reloadKey = 0,
  origin = window.location.origin,
}: {
  /** The communities the directory lists for the caller: the server's collections for the same caller. */
  communities: readonly Community[]
  /** The caller's organisation, to say whose view a token of it gets. */
  organisation: string
  /** The directory's organisations, to name those that pulled. */
  organisations?: readonly Organisation[]
  /** Show what partners pulled (admins, liaisons, coordinators: `mayReadFeedsOut`). */
  activityShown?: boolean
  /** An admin: the table holds every organisation's pulls. */
  everyOrganisation?: boolean
  /** Bumped by the page's Reload. */
  reloadKey?: number
  origin?: string
}) {
  const collections = outboundCollections(origin, communities)
  const discovery = taxiiDiscoveryUrl(origin)
  const apiRoot = taxiiApiRootUrl(origin)
  const misp = mispFeedUrl(origin)
  return (
    <section className="sharing-section" aria-labelledby="sharing-feeds-out" data-testid="feeds-out">
      <h2 id="sharing-feeds-out">Feeds out</h2>
      <p className="muted sharing-intro">
        What partners can pull from this floor. A partner uses an API token of its own (an account of its organisation
        here): it gets exactly what that token may see, never RED it is not named for. Session cookies are not accepted.
      </p>
      <dl className="feeds-out">
        <dt>TAXII 2.1 discovery</dt>
        <dd>
          <Copyable value={discovery} what="the TAXII discovery URL" testId="feeds-out-discovery" />
          <p className="hint">
            Any TAXII 2.1 client starts here, with the partner’s token as <span className="mono">Bearer</span> or as the
            Basic password (any username).
          </p>
        </dd>
        <dt>TAXII API root</dt>
        <dd>
          <Copyable value={apiRoot} what="the TAXII API root" testId="feeds-out-api-root" />
          <p className="hint">
            What OpenCTI asks for (TAXII server URL), with a collection below; try it with{' '}
            <span className="mono">{curlOf(`${apiRoot}collections/`)}</span>
          </p>
        </dd>
        <dt>
          Collections <span className="muted">({collections.length})</span>
        </dt>
        <dd>
          <ul className="feeds-out-collections" data-testid="feeds-out-collections">
            {collections.map((c) => (
              <li key={c.alias} data-testid="feeds-out-collection" data-alias={c.alias}>
                <Copyable value={c.alias} what={`the collection ${c.alias}`} testId="feeds-out-collection-alias" />{' '}
                <span>{c.title}</span>
                {c.id && (
                  <span className="muted">
                    {' '}
                    · id <span className="mono">{c.id}</span>
                  </span>
                )}
              </li>
            ))}
          </ul>
          <p className="hint">
            Use the alias (or the collection’s id) in the path. A partner has “all”, and one collection per community of
            its own organisation; these are yours ({organisation}
            {communities.length === 0 ? ', in no community' : ''}).
          </p>
        </dd>
        <dt>MISP feed</dt>
        <dd>
          <Copyable value={misp} what="the MISP feed URL" testId="feeds-out-misp" />
          <p className="hint">
            In MISP: Sync Actions › Feeds › Add Feed, this URL without the trailing slash, Source Format “MISP Feed”,
            header <span className="mono">Authorization: Bearer &lt;the partner’s token&gt;</span>, Distribution
            “Inherit from feed”. RED is never in it.
          </p>
        </dd>
      </dl>
      {activityShown && (
        <PullActivity
          organisations={organisations}
          organisation={organisation}
          everyOrganisation={everyOrganisation}
          reloadKey={reloadKey}
        />
      )}
    </section>
  )
}
