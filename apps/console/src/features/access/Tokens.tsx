/**
 * Tokens on the Access page: the list (label, kind, the account or service identity it acts as, a
 * display token's preset and TLP ceiling, created, last used, expires, revoked), a new token (an API
 * token for an account or a service identity such as a sensor, or a display token for a wall screen
 * with a preset of `GET /api/v1/wall/presets` and a ceiling) and, per token, revoke (asked twice).
 *
 * The secret comes in the answer to the issue alone: it is shown once, in a dialog, with a copy
 * button and, for a display token, the wall link (`<origin>/wall#token=<secret>`). It lives in that
 * dialog's state only and is dropped when the dialog closes: no store, no form, no storage holds it.
 */
import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from 'react'
import { formatTime } from '../../ui/format.ts'
import { UtcTimeField } from '../../ui/UtcTimeField.tsx'
import { useServerNow } from '../../ui/useNow.ts'
import { issuesUnder, type Organisation } from '../sharing/directory.ts'
import {
  Copyable,
  DeleteButton,
  ErrorNote,
  organisationChoices,
  SelectField,
  TextField,
  useAction,
  useFormFields,
} from '../sharing/forms.tsx'
import { RolesPicker } from './Accounts.tsx'
import { type Account, describeRoles } from './accounts.ts'
import { LoadError, type Reading } from './reading.tsx'
import {
  describeCeiling,
  disabledOwnersOf,
  type Expiry,
  emptyTokenForm,
  type Identity,
  type Issued,
  issueToken,
  type PresetChoice,
  revokeToken,
  TLP_LEVELS,
  TOKEN_KIND_LABELS,
  TOKEN_STATE_LABELS,
  type Token,
  type TokenForm,
  type TokenKind,
  tokenBodyOf,
  tokenStateOf,
  tokensShown,
  wallLinkOf,
  whoseToken,
} from './tokens.ts'

/** The field labels, to name the fields of a 400's `details.issues`. */
const TOKEN_FIELDS: Readonly<Record<string, string>> = {
  label: 'Label',
  kind: 'Kind',
  owner: 'Account',
  service: 'Service identity',
  preset: 'Wall preset',
  tlpCeiling: 'TLP ceiling',
  expiresAt: 'Expires',
}

function TokenRow({
  token,
  now,
  disabledOwners,
  onChanged,
}: {
  token: Token
  now: number
  disabledOwners: ReadonlySet<string>
  onChanged: () => Promise<void>
}) {
  const action = useAction()
  const state = tokenStateOf(token, now, disabledOwners)
  const columns = 9
  return (
    <>
      <tr
        data-testid="token-row"
        data-token-id={token.id}
        data-kind={token.kind}
        data-state={state}
        className={state === 'active' ? undefined : 'access-off'}
      >
        <td>
          <strong data-testid="token-label">{token.label}</strong>
          <div className="mono muted">{token.id}</div>
        </td>
        <td className="nowrap" data-testid="token-kind">
          {token.kind === 'display' ? 'display' : 'API'}
        </td>
        <td data-testid="token-whose">
          <span className="mono">{whoseToken(token)}</span>
          {token.service && (
            <div className="hint">
              service identity · {token.kind === 'display' ? 'read-only' : describeRoles(token.service.roles)}
              {token.service.sources.length > 0 && <> · posts for {token.service.sources.join(', ')}</>}
            </div>
          )}
        </td>
        <td className="nowrap">
          {token.kind === 'display' ? (
            <>
              <span className="mono" data-testid="token-preset">
                {token.preset}
              </span>
              <div className="hint" data-testid="token-ceiling">
                {describeCeiling(token.tlpCeiling)}
              </div>
            </>
          ) : (
            <span className="muted">—</span>
          )}
        </td>
        <td className="mono nowrap" data-testid="token-created">
          {formatTime(token.createdAt)}
          {token.createdBy && <div className="hint">by {token.createdBy}</div>}
        </td>
        <td className="mono nowrap" data-testid="token-last-used">
          {token.lastUsedAt ? formatTime(token.lastUsedAt) : <span className="muted">never</span>}
        </td>
        <td className="mono nowrap" data-testid="token-expires">
          {token.expiresAt ? formatTime(token.expiresAt) : <span className="muted">never</span>}
        </td>
        <td className="nowrap" data-testid="token-state">
          <span className={`access-state access-state-${state === 'active' ? 'on' : 'off'}`}>
            {TOKEN_STATE_LABELS[state]}
          </span>
          {token.revokedAt && <div className="mono hint">{formatTime(token.revokedAt)}</div>}
        </td>
        <td>
          {token.revokedAt === null && (
            <div className="sharing-actions">
              <DeleteButton
                what={token.label}
                verb="Revoke"
                acting="Revoking…"
                consequence={
                  token.kind === 'display'
                    ? 'Its wall says ACCESS REVOKED at once.'
                    : 'It is refused from its next request.'
                }
                pending={action.pending}
                testId="token-revoke"
                onConfirm={() =>
                  void action.run(async () => {
                    await revokeToken(token.id)
                    await onChanged()
                  })
                }
              />
            </div>
          )}
        </td>
      </tr>
      {action.error && (
        <tr>
          <td colSpan={columns} className="sharing-error-cell">
            <ErrorNote error={action.error} fields={TOKEN_FIELDS} onDismiss={action.clear} testId="token-error" />
          </td>
        </tr>
      )}
    </>
  )
}

/**
 * The secret of a token just made, shown this once in a modal dialog: Escape or Close closes it, and
 * with it the secret, which `onClose` drops.
 */
function SecretDialog({ issued, onClose }: { issued: Issued; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const element = dialog.current
    if (element && !element.open) element.showModal()
  }, [])
  const { token, secret } = issued
  const display = token.kind === 'display'
  const link = display ? wallLinkOf(window.location.origin, secret) : null
  return (
    <dialog
      ref={dialog}
      className="access-dialog"
      aria-labelledby={titleId}
      data-testid="token-secret-dialog"
      data-kind={token.kind}
      data-token-id={token.id}
      onClose={onClose}
    >
      <h2 id={titleId}>
        {display ? 'Display token' : 'API token'} “{token.label}” made
      </h2>
      <p className="notice">
        <strong>Copy the secret now: it is shown this once.</strong> The server keeps only its hash; closing this dialog
        forgets it. Lost, it cannot be shown again: revoke the token and issue another.
      </p>
      <dl className="access-secret">
        <dt>Secret</dt>
        <dd>
          <Copyable value={secret} what="the token's secret" testId="token-secret" />
          <p className="hint">
            {display
              ? 'A wall screen opens the link below, or signs in with this secret.'
              : `Sent as Authorization: Bearer …; acts as ${whoseToken(token)}.`}
          </p>
        </dd>
        {link && (
          <>
            <dt>Wall link</dt>
            <dd>
              <Copyable value={link} what="the wall link" testId="token-wall-link" />
              <p className="hint">
                Open it on the wall screen: the wall takes the token out of the address and keeps it in that tab.{' '}
                <a href={link} target="_blank" rel="noopener noreferrer" className="link" data-testid="token-wall-open">
                  Open the wall here
                </a>
              </p>
            </dd>
          </>
        )}
      </dl>
      <div className="row">
        <button
          type="button"
          className="button primary"
          data-testid="token-secret-close"
          onClick={() => dialog.current?.close()}
        >
          I have copied it: close
        </button>
      </div>
    </dialog>
  )
}

/** Organisations as checkboxes: the others a service identity posts for (a relay). */
function SourcesPicker({
  organisations,
  own,
  selected,
  onChange,
  error,
}: {
  organisations: readonly Organisation[]
  own: string
  selected: readonly string[]
  onChange: (sources: string[]) => void
  error: ReturnType<typeof useAction>['error']
}) {
  const issues = issuesUnder(error, 'service.sources')
  const others = organisations.filter((o) => o.id !== own)
  const chosen = new Set(selected)
  return (
    <fieldset className="sharing-members" aria-invalid={issues.length > 0}>
      <legend>
        Posts for, besides its own <span className="muted">({selected.filter((s) => s !== own).length} chosen)</span>
      </legend>
      {others.length === 0 && <p className="empty">No other organisations in the directory.</p>}
      {others.map((o) => (
        <label key={o.id} className="sharing-member-choice">
          <input
            type="checkbox"
            value={o.id}
            data-testid="token-service-source"
            checked={chosen.has(o.id)}
            onChange={(e) =>
              onChange(e.target.checked ? [...selected, o.id] : selected.filter((source) => source !== o.id))
            }
          />
          <span className="mono">{o.id}</span> <span className="muted">{o.name}</span>
        </label>
      ))}
      {issues.length > 0 && (
        <span className="error field-issue">{issues.map((issue) => issue.message).join('; ')}</span>
      )}
    </fieldset>
  )
}

const EXPIRY_LABELS: Readonly<Record<Expiry, string>> = {
  default: 'the server’s default',
  never: 'never',
  at: 'at a time (UTC)',
}

function IssueTokenForm({
  accounts,
  organisations,
  presets,
  onChanged,
}: {
  accounts: readonly Account[]
  organisations: readonly Organisation[]
  presets: Reading<PresetChoice[]>
  onChanged: () => Promise<void>
}) {
  const action = useAction()
  const { form, set, setForm } = useFormFields<TokenForm>(() => emptyTokenForm())
  /** The token just made and its secret: held here until the dialog closes, nowhere else. */
  const [issued, setIssued] = useState<Issued | null>(null)
  /**
   * Focused again once the dialog has closed and the list is read again: it is disabled until then,
   * so the dialog cannot give the focus back to it.
   */
  const issueButton = useRef<HTMLButtonElement>(null)
  const [focusBack, setFocusBack] = useState(false)
  useEffect(() => {
    if (!focusBack || action.pending || issued) return
    issueButton.current?.focus()
    setFocusBack(false)
  }, [focusBack, action.pending, issued])
  const titleId = useId()
  const display = form.kind === 'display'
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const made = tokenBodyOf(form)
    if (!made.ok) {
      // the expiry field says why; what the server refused before is about what was sent then
      action.clear()
      return
    }
    void action.run(async () => {
      setIssued(await issueToken(made.body))
      setForm((f) => ({ ...emptyTokenForm(f.kind), identity: f.identity }))
      await onChanged()
    })
  }
  const organisationOptions = organisationChoices(organisations)
  const accountOptions = [
    { value: '', label: accounts.length === 0 ? 'no accounts yet' : 'choose an account' },
    ...accounts.map((a) => ({
      value: a.username,
      label: `${a.username} · ${a.displayName} (${a.organisation})${a.disabled ? ', disabled' : ''}`,
    })),
  ]
  const presetList = presets.value ?? []
  const presetOptions = [
    ...(presetList.some((p) => p.name === form.preset) ? [] : [{ value: form.preset, label: form.preset }]),
    ...presetList.map((p) => ({ value: p.name, label: p.title ? `${p.name} · ${p.title}` : p.name })),
  ]
  return (
    <>
      <form className="sharing-form" data-testid="issue-token" aria-labelledby={titleId} onSubmit={submit}>
        <h3 id={titleId}>New token</h3>
        <div className="sharing-fields">
          <SelectField<TokenKind>
            label="Kind"
            field="kind"
            value={form.kind}
            options={(['display', 'api'] as const).map((k) => ({ value: k, label: TOKEN_KIND_LABELS[k] }))}
            onChange={(kind) => setForm((f) => ({ ...f, kind, serviceRoles: emptyTokenForm(kind).serviceRoles }))}
            error={action.error}
            hint={display ? 'read-only, for a wall screen' : 'for a program: a sensor, a relay, a script'}
            testId="token-kind"
          />
          <TextField
            label="Label"
            field="label"
            value={form.label}
            onChange={set('label')}
            error={action.error}
            hint={display ? 'where the screen is (wall, floor 2)' : 'what it is for (sensor, Tallinn DC)'}
            testId="token-label-input"
          />
          <SelectField<Identity>
            label="Acts as"
            field="identity"
            value={form.identity}
            options={[
              { value: 'service', label: 'a service identity' },
              { value: 'account', label: 'an account' },
            ]}
            onChange={set('identity')}
            error={action.error}
            hint={form.identity === 'account' ? 'with its roles, as they are at each request' : 'a user id of its own'}
            testId="token-identity"
          />
        </div>
        {form.identity === 'account' ? (
          <div className="sharing-fields">
            <SelectField
              label="Account"
              field="owner"
              value={form.owner}
              options={accountOptions}
              onChange={set('owner')}
              error={action.error}
              testId="token-owner"
            />
          </div>
        ) : (
          <>
            <div className="sharing-fields">
              <TextField
                label="User id"
                field="service"
                issuePath="service.user"
                value={form.serviceUser}
                onChange={set('serviceUser')}
                error={action.error}
                hint={display ? 'names the screen (wall-floor-2)' : 'names the program (sensor-ee)'}
                testId="token-service-user"
              />
              <SelectField
                label="Organisation"
                field="service.organisation"
                value={form.serviceOrganisation}
                options={organisationOptions}
                onChange={set('serviceOrganisation')}
                error={action.error}
                hint="from the directory: what it sees and posts as"
                testId="token-service-organisation"
              />
            </div>
            {display ? (
              <p className="hint" data-testid="token-display-roles">
                A display token is read-only: it shows what its organisation may see, up to its TLP ceiling, and takes
                no action, so it has no roles to choose.
              </p>
            ) : (
              <RolesPicker
                legend="Roles of the service identity"
                selected={form.serviceRoles}
                onChange={set('serviceRoles')}
                error={action.error}
                field="service.roles"
                testId="token-service-role"
              />
            )}
            {!display && (
              <SourcesPicker
                organisations={organisations}
                own={form.serviceOrganisation}
                selected={form.serviceSources}
                onChange={set('serviceSources')}
                error={action.error}
              />
            )}
          </>
        )}
        <div className="sharing-fields">
          {display && (
            <>
              <SelectField
                label="Wall preset"
                field="preset"
                value={form.preset}
                options={presetOptions}
                onChange={set('preset')}
                error={action.error}
                hint={presets.error ? 'the presets could not be read' : 'the layout the wall shows, and is held to'}
                testId="token-preset"
              />
              <SelectField<TokenForm['tlpCeiling']>
                label="TLP ceiling"
                field="tlpCeiling"
                value={form.tlpCeiling}
                options={[
                  { value: '', label: 'no ceiling' },
                  ...TLP_LEVELS.map((t) => ({ value: t, label: `TLP:${t}` })),
                ]}
                onChange={set('tlpCeiling')}
                error={action.error}
                hint="nothing marked above it reaches the wall"
                testId="token-ceiling"
              />
            </>
          )}
          <SelectField<Expiry>
            label="Expires"
            field="expiresAt"
            value={form.expiry}
            options={(['default', 'never', 'at'] as const).map((e) => ({ value: e, label: EXPIRY_LABELS[e] }))}
            onChange={set('expiry')}
            error={action.error}
            hint={
              form.expiry === 'default'
                ? display
                  ? 'a display token: never'
                  : 'an API token: after the server’s token lifetime (90 days unless set)'
                : undefined
            }
            testId="token-expiry"
          />
          {form.expiry === 'at' && (
            <UtcTimeField
              label="Stops working at"
              value={form.expiresAt}
              onChange={set('expiresAt')}
              testId="token-expires-at"
            />
          )}
          <button
            ref={issueButton}
            type="submit"
            className="button primary sharing-submit"
            data-testid="token-issue"
            disabled={action.pending}
          >
            {action.pending ? 'Issuing…' : display ? 'Issue display token' : 'Issue API token'}
          </button>
        </div>
        <LoadError error={presets.error} testId="presets-load-error" />
        <ErrorNote error={action.error} fields={TOKEN_FIELDS} onDismiss={action.clear} testId="issue-token-error" />
      </form>
      {issued && (
        <SecretDialog
          issued={issued}
          onClose={() => {
            setIssued(null)
            setFocusBack(true)
          }}
        />
      )}
    </>
  )
}

export function TokensSection({
  reading,
  accounts,
  organisations,
  presets,
  onChanged,
}: {
  reading: Reading<Token[]>
  accounts: readonly Account[]
  organisations: readonly Organisation[]
  presets: Reading<PresetChoice[]>
  onChanged: () => Promise<void>
}) {
  const now = useServerNow(30_000)
  const tokens = reading.value
  const [all, setAll] = useState(false)
  const { shown, hidden } = tokensShown(tokens ?? [], now, all)
  const disabledOwners = useMemo(() => disabledOwnersOf(accounts), [accounts])
  const off = all ? (tokens ?? []).filter((token) => tokenStateOf(token, now) !== 'active').length : hidden
  // listed with those in force, but refused while their account is disabled: counted apart
  const suspended = (tokens ?? []).filter(
    (token) => tokenStateOf(token, now, disabledOwners) === 'account_disabled',
  ).length
  return (
    <section
      className="sharing-section"
      aria-labelledby="access-tokens"
      data-testid="access-tokens"
      aria-busy={reading.loading}
    >
      <h2 id="access-tokens">
        Tokens{' '}
        {tokens && (
          <span className="muted" data-testid="tokens-count">
            ({tokens.length - off - suspended} in force
            {suspended > 0 ? `, ${suspended} refused while the account is disabled` : ''}
            {off > 0 ? `, ${off} revoked or expired` : ''})
          </span>
        )}
      </h2>
      <p className="muted sharing-intro">
        API tokens act as an account (with its roles as they are at each request) or as a service identity (a sensor, a
        relay); display tokens are read-only, for a wall screen, held to a preset and a TLP ceiling. Tokens in force,
        newest first; tokens of the server’s token file are not listed. Revoking is immediate: the next request is
        refused and live walls are disconnected.
      </p>
      {off > 0 && (
        <label className="access-show-off">
          <input
            type="checkbox"
            data-testid="tokens-show-off"
            checked={all}
            onChange={(e) => setAll(e.target.checked)}
          />{' '}
          Show revoked and expired tokens ({off})
        </label>
      )}
      <LoadError error={reading.error} testId="tokens-load-error" />
      {!tokens && reading.loading && <p className="muted">Loading the tokens…</p>}
      {tokens &&
        (shown.length === 0 ? (
          <p className="empty" data-testid="tokens-empty">
            {tokens.length === 0 ? 'No tokens yet.' : 'No token in force.'}
          </p>
        ) : (
          <table className="table sharing-table" data-testid="tokens-table">
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Kind</th>
                <th scope="col">Acts as</th>
                <th scope="col">Wall</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Last used (UTC)</th>
                <th scope="col">Expires (UTC)</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((token) => (
                <TokenRow
                  key={token.id}
                  token={token}
                  now={now}
                  disabledOwners={disabledOwners}
                  onChanged={onChanged}
                />
              ))}
            </tbody>
          </table>
        ))}
      <IssueTokenForm accounts={accounts} organisations={organisations} presets={presets} onChanged={onChanged} />
    </section>
  )
}
