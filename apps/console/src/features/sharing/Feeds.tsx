/**
 * Feeds in: the partners' TAXII 2.1 collections this floor polls (`/api/v1/feeds`), for admins and
 * liaisons, each with its state (last success, last error, failures in a row, what it imported,
 * the next poll; times in UTC). Admins register one, enable or disable it, poll it now (the outcome,
 * or the server's reason it could not read the partner) and delete it (second press). Every
 * refusal is shown next to what asked, as the server worded it. A feed's secret is never entered
 * here: the feed names an environment variable the server reads.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { formatTime } from '../../ui/format.ts'
import { describeFormError, type FormError, formErrorOf, headlineOf, type Organisation } from './directory.ts'
import {
  AUTH_KINDS,
  AUTH_LABELS,
  type AuthKind,
  collectionUrlOf,
  createFeed,
  DEFAULT_TLPS,
  deleteFeed,
  describeAuth,
  describeInterval,
  describeOutcome,
  emptyFeedForm,
  type Feed,
  type FeedForm,
  feedBodyOf,
  feedHealth,
  HEALTH_LABELS,
  loadFeeds,
  type PollResult,
  pollFailure,
  pollFeed,
  SECRET_ENV_PREFIX,
  setFeedEnabled,
} from './feeds.ts'
import {
  DeleteButton,
  ErrorNote,
  organisationChoices,
  SelectField,
  TextField,
  useAction,
  useCreateForm,
} from './forms.tsx'

/** The field labels, to name the fields of a 400's `details.issues`. */
const FEED_FIELDS: Readonly<Record<string, string>> = {
  id: 'Id',
  label: 'Label',
  url: 'URL',
  apiRoot: 'API root',
  collectionId: 'Collection',
  organisation: 'Speaks for',
  auth: 'Authentication',
  pollSeconds: 'Poll every',
  defaultTlp: 'Default TLP',
  enabled: 'Enabled',
}

const count = (n: number) => n.toLocaleString('en-GB')

function FeedRow({
  feed,
  editable,
  columns,
  onChanged,
}: {
  feed: Feed
  editable: boolean
  columns: number
  onChanged: () => Promise<void>
}) {
  const action = useAction()
  const [polling, setPolling] = useState(false)
  const [poll, setPoll] = useState<PollResult | null>(null)
  const { id, state } = feed
  const health = feedHealth(feed)
  const pollNow = async () => {
    setPolling(true)
    setPoll(null)
    action.clear()
    const result = await pollFeed(id)
    setPoll(result)
    setPolling(false)
    await onChanged()
  }
  return (
    <>
      <tr data-testid="feed-row" data-feed-id={id} data-health={health} data-enabled={feed.enabled}>
        <td className="feed-name">
          <strong data-testid="feed-label">{feed.label}</strong>
          <div className="mono muted">{id}</div>
          <div className="hint">{describeAuth(feed.auth)}</div>
        </td>
        <td className="feed-source">
          <span className="mono" data-testid="feed-url">
            {collectionUrlOf(feed)}
          </span>
          <div className="hint">
            collection <span className="mono">{feed.collectionId}</span> · default TLP:{feed.defaultTlp}
          </div>
        </td>
        <td className="mono" data-testid="feed-organisation">
          {feed.organisation}
        </td>
        <td data-testid="feed-enabled">
          {feed.enabled ? 'yes' : 'no'}
          <div>
            <span className={`feed-health feed-health-${health}`} data-testid="feed-health">
              {HEALTH_LABELS[health]}
            </span>
          </div>
        </td>
        <td className="nowrap">{describeInterval(feed.pollSeconds)}</td>
        <td className="mono nowrap" data-testid="feed-last-success">
          {state?.lastSuccessAt ? formatTime(state.lastSuccessAt) : <span className="muted">never</span>}
        </td>
        <td className="num" data-testid="feed-failures">
          {state?.consecutiveFailures ?? 0}
        </td>
        <td className="num nowrap" data-testid="feed-imported">
          {count(state?.objectsImported ?? 0)} <span className="muted">objects</span>
          <div>
            {count(state?.eventsStored ?? 0)} <span className="muted">events</span>
          </div>
        </td>
        <td className="mono" data-testid="feed-next-poll">
          {!feed.enabled ? (
            <span className="muted">not polled (disabled)</span>
          ) : state?.nextPollAt ? (
            <span className="nowrap">{formatTime(state.nextPollAt)}</span>
          ) : (
            <span className="muted">at the next tick</span>
          )}
        </td>
        {editable && (
          <td>
            <div className="sharing-actions">
              <button
                type="button"
                className="button small"
                data-testid="feed-poll"
                aria-label={`Poll ${id} now`}
                disabled={polling}
                onClick={() => void pollNow()}
              >
                {polling ? 'Polling…' : 'Poll now'}
              </button>
              <button
                type="button"
                className="button small"
                data-testid="feed-toggle"
                aria-label={`${feed.enabled ? 'Disable' : 'Enable'} ${id}`}
                disabled={action.pending}
                onClick={() =>
                  void action.run(async () => {
                    await setFeedEnabled(id, !feed.enabled)
                    await onChanged()
                  })
                }
              >
                {feed.enabled ? 'Disable' : 'Enable'}
              </button>
              <DeleteButton
                what={id}
                pending={action.pending}
                testId="feed-delete"
                onConfirm={() =>
                  void action.run(async () => {
                    await deleteFeed(id)
                    await onChanged()
                  })
                }
              />
            </div>
          </td>
        )}
      </tr>
      {state?.lastError && (
        <tr data-testid="feed-error-row" data-feed-id={id}>
          <td colSpan={columns} className="sharing-error-cell">
            <div className="feed-last-error" data-testid="feed-last-error">
              <strong>Last error</strong>
              {state.lastAttemptAt && <span className="mono"> ({formatTime(state.lastAttemptAt)})</span>}
              <strong>:</strong> <span data-testid="feed-last-error-message">{state.lastError}</span>
              <span className="muted">
                {' '}
                · {state.consecutiveFailures} {state.consecutiveFailures === 1 ? 'failure' : 'failures'} in a row; what
                it imported stays
              </span>
            </div>
          </td>
        </tr>
      )}
      {poll && (
        <tr>
          <td colSpan={columns} className="sharing-error-cell">
            {poll.ok ? (
              <p className="feed-poll-outcome" role="status" data-testid="feed-poll-outcome">
                Polled {id} at <span className="mono">{formatTime(poll.at)}</span>: {describeOutcome(poll.outcome)}.{' '}
                <button
                  type="button"
                  className="link"
                  onClick={() => setPoll(null)}
                  aria-label="Dismiss the poll's outcome"
                >
                  ✕
                </button>
              </p>
            ) : pollFailure(poll.error) !== null ? (
              // the partner (or the feed's set-up), not this server: "No answer: the server answered 503" read as ours
              <div className="command-error" role="alert" data-testid="feed-poll-error" data-code={poll.error.code}>
                <strong>The poll failed:</strong>{' '}
                <span data-testid="feed-poll-error-message">{pollFailure(poll.error)}</span>{' '}
                <button type="button" className="link" onClick={() => setPoll(null)} aria-label="Dismiss the error">
                  ✕
                </button>
              </div>
            ) : (
              <ErrorNote
                error={poll.error}
                fields={FEED_FIELDS}
                onDismiss={() => setPoll(null)}
                testId="feed-poll-error"
              />
            )}
          </td>
        </tr>
      )}
      {action.error && (
        <tr>
          <td colSpan={columns} className="sharing-error-cell">
            <ErrorNote error={action.error} fields={FEED_FIELDS} onDismiss={action.clear} testId="feed-error" />
          </td>
        </tr>
      )}
    </>
  )
}

function FeedsTable({
  feeds,
  editable,
  onChanged,
}: {
  feeds: readonly Feed[]
  editable: boolean
  onChanged: () => Promise<void>
}) {
  const columns = 9 + (editable ? 1 : 0)
  return (
    <table className="table sharing-table feeds-table" data-testid="feeds-table">
      <thead>
        <tr>
          <th scope="col">Feed</th>
          <th scope="col">Collection polled</th>
          <th scope="col">Speaks for</th>
          <th scope="col">Enabled</th>
          <th scope="col">Poll</th>
          <th scope="col">Last success (UTC)</th>
          <th scope="col" className="num">
            Failures in a row
          </th>
          <th scope="col" className="num">
            Imported
          </th>
          <th scope="col">Next poll (UTC)</th>
          {editable && (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {feeds.map((feed) => (
          <FeedRow key={feed.id} feed={feed} editable={editable} columns={columns} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
  )
}

function AddFeedForm({
  organisations,
  onChanged,
}: {
  organisations: readonly Organisation[]
  onChanged: () => Promise<void>
}) {
  const { form, set, action, added, submit } = useCreateForm<FeedForm>(
    () => emptyFeedForm(),
    async (typed) => (await createFeed(feedBodyOf(typed))).id,
    onChanged,
  )
  const titleId = useId()
  const secretNoteId = useId()
  const enabledId = useId()
  const organisationOptions = organisationChoices(organisations)
  return (
    <form className="sharing-form" data-testid="add-feed" aria-labelledby={titleId} onSubmit={submit}>
      <h3 id={titleId}>Register a partner feed</h3>
      <p className="feed-secret-note" id={secretNoteId} data-testid="feed-secret-note">
        <strong>The secret is never entered here.</strong> Its value is set on the server, as the environment variable
        named below (<span className="mono">{SECRET_ENV_PREFIX}…</span>); the server reads it when it polls, and never
        stores nor shows it.
      </p>
      <div className="sharing-fields">
        <TextField
          label="Id"
          field="id"
          value={form.id}
          onChange={set('id')}
          error={action.error}
          hint="lower case: a-z 0-9 . _ - (cert-ee-taxii)"
          testId="feed-id"
        />
        <TextField
          label="Label"
          field="label"
          value={form.label}
          onChange={set('label')}
          error={action.error}
          testId="feed-label-input"
        />
        <SelectField
          label="Speaks for"
          field="organisation"
          value={form.organisation}
          options={organisationOptions}
          onChange={set('organisation')}
          error={action.error}
          hint="its events are sourced to this organisation"
          testId="feed-organisation-select"
        />
      </div>
      <div className="sharing-fields">
        <TextField
          label="URL"
          field="url"
          type="url"
          inputMode="url"
          placeholder="https://taxii.partner.example"
          value={form.url}
          onChange={set('url')}
          error={action.error}
          hint="the TAXII server: http:// or https://"
          testId="feed-url-input"
        />
        <TextField
          label="API root"
          field="apiRoot"
          value={form.apiRoot}
          onChange={set('apiRoot')}
          error={action.error}
          hint="its path on that server (/taxii2/api/ on a Watchfloor)"
          testId="feed-api-root"
        />
        <TextField
          label="Collection"
          field="collectionId"
          value={form.collectionId}
          onChange={set('collectionId')}
          error={action.error}
          hint="its id, or an alias (all)"
          testId="feed-collection"
        />
      </div>
      <div className="sharing-fields">
        <SelectField<AuthKind>
          label="Authentication"
          field="auth.kind"
          value={form.authKind}
          options={AUTH_KINDS.map((k) => ({ value: k, label: AUTH_LABELS[k] }))}
          onChange={set('authKind')}
          error={action.error}
          testId="feed-auth-kind"
        />
        {form.authKind === 'basic' && (
          <TextField
            label="Username"
            field="auth"
            issuePath="auth.username"
            value={form.username}
            onChange={set('username')}
            error={action.error}
            testId="feed-username"
          />
        )}
        {form.authKind !== 'none' && (
          <TextField
            label="Secret's environment variable"
            field="auth"
            issuePath="auth.secretEnv"
            value={form.secretEnv}
            onChange={set('secretEnv')}
            error={action.error}
            autoCapitalize="characters"
            hint={
              <>
                a name, not the secret: <span className="mono">{SECRET_ENV_PREFIX}PARTNER</span>, set on the server
              </>
            }
            testId="feed-secret-env"
          />
        )}
      </div>
      <div className="sharing-fields">
        <TextField
          label="Poll every (seconds)"
          field="pollSeconds"
          inputMode="numeric"
          value={form.pollSeconds}
          onChange={set('pollSeconds')}
          error={action.error}
          hint="10 to 86400; empty: 300"
          testId="feed-poll-seconds"
        />
        <SelectField
          label="Default TLP"
          field="defaultTlp"
          value={form.defaultTlp}
          options={DEFAULT_TLPS.map((t) => ({ value: t, label: `TLP:${t}` }))}
          onChange={set('defaultTlp')}
          error={action.error}
          hint="for objects the partner sends unmarked"
          testId="feed-default-tlp"
        />
        <div className="form-field feed-enabled-field">
          <label htmlFor={enabledId} className="feed-checkbox">
            <input
              id={enabledId}
              type="checkbox"
              data-testid="feed-enabled-input"
              checked={form.enabled}
              onChange={(e) => set('enabled')(e.target.checked)}
            />{' '}
            Enabled
          </label>
          <span className="hint">polled every interval; off: only “Poll now”</span>
        </div>
        <button
          type="submit"
          className="button primary sharing-submit"
          data-testid="feed-add"
          aria-describedby={secretNoteId}
          disabled={action.pending}
        >
          {action.pending ? 'Registering…' : 'Register feed'}
        </button>
      </div>
      <ErrorNote error={action.error} fields={FEED_FIELDS} onDismiss={action.clear} testId="add-feed-error" />
      {added && (
        <p className="hint" role="status" data-testid="feed-added">
          Registered {added}.
        </p>
      )}
    </form>
  )
}

type Loaded = { feeds: Feed[] | null; at: string | null; loading: boolean; error: FormError | null }

/** How often the feeds are read again while the page is open: a poll's outcome shows by itself. */
const FEEDS_REFRESH_MS = 10_000

/** The "Feeds in" section: read on mount and whenever `reloadKey` changes (the page's Reload). */
export function FeedsIn({
  organisations,
  editable,
  reloadKey,
}: {
  organisations: readonly Organisation[]
  editable: boolean
  reloadKey: number
}) {
  const [loaded, setLoaded] = useState<Loaded>({ feeds: null, at: null, loading: true, error: null })
  const latest = useRef(0)
  const reload = useCallback(async () => {
    const call = ++latest.current
    setLoaded((l) => ({ ...l, loading: true }))
    try {
      const feeds = await loadFeeds()
      if (call === latest.current) setLoaded({ feeds, at: new Date().toISOString(), loading: false, error: null })
    } catch (error) {
      if (call === latest.current) setLoaded((l) => ({ ...l, loading: false, error: formErrorOf(error) }))
    }
  }, [])
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey is the page's Reload
  useEffect(() => {
    void reload()
  }, [reload, reloadKey])
  // the server polls on its own (a new feed within seconds): its outcome shows without Reload, read
  // again while the page is open and seen
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload()
    }, FEEDS_REFRESH_MS)
    return () => clearInterval(timer)
  }, [reload])
  const { feeds } = loaded
  const viewingAs = useWatchfloor((w) => w.session?.viewingAs)
  return (
    <section
      className="sharing-section"
      aria-labelledby="sharing-feeds-in"
      data-testid="feeds-in"
      aria-busy={loaded.loading}
    >
      <h2 id="sharing-feeds-in">Feeds in {feeds && <span className="muted">({feeds.length})</span>}</h2>
      <p className="muted sharing-intro">
        Partners’ TAXII 2.1 collections this floor polls: their objects become events of the organisation each feed
        speaks for, with the markings they carry.
        {loaded.at && (
          <>
            {' '}
            Read <span className="mono">{formatTime(loaded.at)}</span>.
          </>
        )}
      </p>
      {/* viewing as another audience, the page says why it is read-only */}
      {!editable && !viewingAs && (
        <p className="notice" data-testid="feeds-readonly">
          Read-only: admins register, poll and remove feeds.
        </p>
      )}
      {loaded.error && (
        <div className="command-error" role="alert" data-testid="feeds-load-error">
          <strong>{headlineOf(loaded.error.code)}:</strong> {describeFormError(loaded.error)}
        </div>
      )}
      {!feeds && loaded.loading && <p className="muted">Loading the feeds…</p>}
      {feeds &&
        (feeds.length === 0 ? (
          <p className="empty" data-testid="feeds-empty">
            No partner feeds registered.
          </p>
        ) : (
          <FeedsTable feeds={feeds} editable={editable} onChanged={reload} />
        ))}
      {editable && <AddFeedForm organisations={organisations} onChanged={reload} />}
    </section>
  )
}
