/**
 * Accounts on the Access page: the list (username, display name, organisation, roles, disabled,
 * created), a new account (username, display name, an organisation of the directory, roles,
 * password) and, per account, disable or enable, and an editor for its display name, its roles and
 * a new password. Each change shows the server's refusal beneath it (a 400 naming its fields, the
 * 409 of an admin disabling their own account or dropping their own admin role) and keeps what was
 * typed; it is sent as typed, the rules being the server's.
 */
import { useId, useState } from 'react'
import { formatTime } from '../../ui/format.ts'
import type { FormError, Organisation } from '../sharing/directory.ts'
import { ErrorNote, organisationChoices, SelectField, TextField, useAction, useCreateForm } from '../sharing/forms.tsx'
import {
  type Account,
  type AccountForm,
  accountBodyOf,
  createAccount,
  describeRoles,
  emptyAccountForm,
  isOwnAccount,
  ROLES,
  type Role,
  roleLabel,
  sameRoles,
  updateAccount,
  withRole,
} from './accounts.ts'
import { LoadError, type Reading } from './reading.tsx'

/** The field labels, to name the fields of a 400's `details.issues`. */
const ACCOUNT_FIELDS: Readonly<Record<string, string>> = {
  username: 'Username',
  displayName: 'Display name',
  organisation: 'Organisation',
  nation: 'Nation',
  roles: 'Roles',
  password: 'Password',
  disabled: 'Disabled',
}

/** What each role may do, beside its box. */
const ROLE_HINTS: Readonly<Record<Role, string>> = {
  sensor: 'posts events (a machine, usually a token)',
  watch_officer: 'watches and acknowledges',
  coordinator: 'runs incidents: tasks, status, markings',
  analyst: 'reads and comments',
  liaison: 'partners and feeds',
  admin: 'accounts, tokens, the directory',
}

/**
 * The roles as checkboxes: a fieldset with its legend, each box labelled with the role; a refusal
 * naming `field` marks it. Each box's `data-testid` is `testId`, with `data-role`.
 */
export function RolesPicker({
  legend,
  selected,
  onChange,
  error,
  field,
  testId,
}: {
  legend: string
  selected: readonly Role[]
  onChange: (roles: Role[]) => void
  error: FormError | null
  field: string
  testId: string
}) {
  const issueId = useId()
  const issues = error ? error.issues.filter((i) => i.path === field || i.path.startsWith(`${field}.`)) : []
  return (
    <fieldset
      className="sharing-members access-roles"
      aria-invalid={issues.length > 0}
      aria-describedby={issues.length > 0 ? issueId : undefined}
    >
      <legend>{legend}</legend>
      {ROLES.map((role) => (
        <label key={role} className="sharing-member-choice" title={ROLE_HINTS[role]}>
          <input
            type="checkbox"
            data-testid={testId}
            data-role={role}
            checked={selected.includes(role)}
            onChange={(e) => onChange(withRole(selected, role, e.target.checked))}
          />
          {roleLabel(role)}
        </label>
      ))}
      {issues.length > 0 && (
        <span id={issueId} className="error field-issue" data-testid={`${testId}-issue`}>
          {issues.map((issue) => issue.message).join('; ')}
        </span>
      )}
    </fieldset>
  )
}

/** The editor under an account's row: its display name, its roles, a new password; each saved on its own. */
function AccountEditor({ account, onChanged }: { account: Account; onChanged: () => Promise<void> }) {
  const { username } = account
  const naming = useAction()
  const roling = useAction()
  const resetting = useAction()
  const [displayName, setDisplayName] = useState(account.displayName)
  const [roles, setRoles] = useState<Role[]>(() => ROLES.filter((r) => account.roles.includes(r)))
  const [password, setPassword] = useState('')
  const [saved, setSaved] = useState<string | null>(null)
  const save = (action: ReturnType<typeof useAction>, patch: Parameters<typeof updateAccount>[1], said: string) => {
    setSaved(null)
    return action.run(async () => {
      await updateAccount(username, patch)
      setSaved(said)
      await onChanged()
    })
  }
  return (
    <div className="access-editor" data-testid="account-editor" data-username={username}>
      <form
        className="access-edit"
        onSubmit={(e) => {
          e.preventDefault()
          void save(naming, { displayName: displayName.trim() }, 'Display name saved.')
        }}
      >
        <div className="sharing-fields">
          <TextField
            label={`Display name of ${username}`}
            field="displayName"
            value={displayName}
            onChange={setDisplayName}
            error={naming.error}
            testId="account-name-input"
          />
          <button
            type="submit"
            className="button small sharing-submit"
            data-testid="account-name-save"
            disabled={naming.pending}
          >
            {naming.pending ? 'Saving…' : 'Save name'}
          </button>
        </div>
        <ErrorNote error={naming.error} fields={ACCOUNT_FIELDS} onDismiss={naming.clear} testId="account-name-error" />
      </form>
      <form
        className="access-edit"
        onSubmit={(e) => {
          e.preventDefault()
          void save(roling, { roles }, `Roles saved: ${describeRoles(roles)}.`)
        }}
      >
        <RolesPicker
          legend={`Roles of ${username}`}
          selected={roles}
          onChange={setRoles}
          error={roling.error}
          field="roles"
          testId="account-role"
        />
        <div className="row">
          <button
            type="submit"
            className="button small"
            data-testid="account-roles-save"
            disabled={roling.pending || sameRoles(roles, account.roles)}
          >
            {roling.pending ? 'Saving…' : 'Save roles'}
          </button>
          <span className="hint">in force from their next request</span>
        </div>
        <ErrorNote error={roling.error} fields={ACCOUNT_FIELDS} onDismiss={roling.clear} testId="account-roles-error" />
      </form>
      <form
        className="access-edit"
        onSubmit={(e) => {
          e.preventDefault()
          void save(
            resetting,
            { password },
            'New password set: their sessions are ended and their tokens revoked.',
          ).then((ok) => {
            if (ok) setPassword('')
          })
        }}
      >
        <div className="sharing-fields">
          <TextField
            label={`New password for ${username}`}
            field="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={setPassword}
            error={resetting.error}
            hint="12 to 1,024 characters; ends their sessions and revokes their tokens"
            testId="account-password-input"
          />
          <button
            type="submit"
            className="button small sharing-submit"
            data-testid="account-password-save"
            disabled={resetting.pending || password === ''}
          >
            {resetting.pending ? 'Setting…' : 'Set password'}
          </button>
        </div>
        <ErrorNote
          error={resetting.error}
          fields={ACCOUNT_FIELDS}
          onDismiss={resetting.clear}
          testId="account-password-error"
        />
      </form>
      {saved && (
        <p className="hint" role="status" data-testid="account-saved">
          {saved}
        </p>
      )}
    </div>
  )
}

function AccountRow({
  account,
  organisations,
  own,
  columns,
  onChanged,
}: {
  account: Account
  organisations: ReadonlyMap<string, Organisation>
  own: boolean
  columns: number
  onChanged: () => Promise<void>
}) {
  const toggling = useAction()
  const [editing, setEditing] = useState(false)
  const { username } = account
  const editorId = useId()
  return (
    <>
      <tr
        data-testid="account-row"
        data-username={username}
        data-disabled={account.disabled}
        className={account.disabled ? 'access-off' : undefined}
      >
        <td className="mono nowrap">
          <span data-testid="account-username">{username}</span>
          {own && (
            <span className="muted" data-testid="account-you">
              {' '}
              (you)
            </span>
          )}
        </td>
        <td data-testid="account-display-name">{account.displayName}</td>
        <td
          className="mono nowrap"
          data-testid="account-organisation"
          title={organisations.get(account.organisation)?.name}
        >
          {account.organisation}
        </td>
        <td data-testid="account-roles">{describeRoles(account.roles)}</td>
        <td data-testid="account-disabled">
          <span className={`access-state access-state-${account.disabled ? 'off' : 'on'}`}>
            {account.disabled ? 'disabled' : 'enabled'}
          </span>
        </td>
        <td className="mono nowrap" data-testid="account-created">
          {formatTime(account.createdAt)}
        </td>
        <td>
          <div className="sharing-actions">
            <button
              type="button"
              className="button small"
              data-testid="account-edit"
              aria-expanded={editing}
              aria-controls={editing ? editorId : undefined}
              aria-label={`Edit ${username}`}
              onClick={() => setEditing((e) => !e)}
            >
              {editing ? 'Close' : 'Edit'}
            </button>
            <button
              type="button"
              className={`button small${account.disabled ? '' : ' danger'}`}
              data-testid="account-toggle"
              aria-label={`${account.disabled ? 'Enable' : 'Disable'} ${username}`}
              title={
                own && !account.disabled
                  ? 'You cannot disable your own account (another admin can)'
                  : account.disabled
                    ? 'They may sign in again; their tokens work again'
                    : 'Ends their sessions; they cannot sign in and their tokens are refused'
              }
              // the server refuses an admin disabling their own account: not offered, rather than refused
              disabled={toggling.pending || (own && !account.disabled)}
              onClick={() =>
                void toggling.run(async () => {
                  await updateAccount(username, { disabled: !account.disabled })
                  await onChanged()
                })
              }
            >
              {toggling.pending ? 'Saving…' : account.disabled ? 'Enable' : 'Disable'}
            </button>
          </div>
        </td>
      </tr>
      {toggling.error && (
        <tr>
          <td colSpan={columns} className="sharing-error-cell">
            <ErrorNote
              error={toggling.error}
              fields={ACCOUNT_FIELDS}
              onDismiss={toggling.clear}
              testId="account-error"
            />
          </td>
        </tr>
      )}
      {editing && (
        <tr id={editorId}>
          <td colSpan={columns} className="sharing-error-cell">
            <AccountEditor account={account} onChanged={onChanged} />
          </td>
        </tr>
      )}
    </>
  )
}

function AddAccountForm({
  organisations,
  onChanged,
}: {
  organisations: readonly Organisation[]
  onChanged: () => Promise<void>
}) {
  const { form, set, action, added, submit } = useCreateForm<AccountForm>(
    () => emptyAccountForm(),
    async (typed) => (await createAccount(accountBodyOf(typed))).username,
    onChanged,
  )
  const titleId = useId()
  const organisationOptions = organisationChoices(organisations)
  return (
    <form className="sharing-form" data-testid="add-account" aria-labelledby={titleId} onSubmit={submit}>
      <h3 id={titleId}>New account</h3>
      <div className="sharing-fields">
        <TextField
          label="Username"
          field="username"
          value={form.username}
          onChange={set('username')}
          error={action.error}
          hint="a-z 0-9 . _ -, up to 64; their user id"
          testId="new-account-username"
        />
        <TextField
          label="Display name"
          field="displayName"
          value={form.displayName}
          onChange={set('displayName')}
          error={action.error}
          hint="empty: the username"
          testId="new-account-name"
        />
        <SelectField
          label="Organisation"
          field="organisation"
          value={form.organisation}
          options={organisationOptions}
          onChange={set('organisation')}
          error={action.error}
          hint="from the directory; never changes"
          testId="new-account-organisation"
        />
        <TextField
          label="Password"
          field="password"
          type="password"
          autoComplete="new-password"
          value={form.password}
          onChange={set('password')}
          error={action.error}
          hint="12 to 1,024 characters"
          testId="new-account-password"
        />
      </div>
      <RolesPicker
        legend="Roles"
        selected={form.roles}
        onChange={set('roles')}
        error={action.error}
        field="roles"
        testId="new-account-role"
      />
      <div className="row">
        <button type="submit" className="button primary" data-testid="new-account-create" disabled={action.pending}>
          {action.pending ? 'Creating…' : 'Create account'}
        </button>
      </div>
      <ErrorNote error={action.error} fields={ACCOUNT_FIELDS} onDismiss={action.clear} testId="add-account-error" />
      {added && (
        <p className="hint" role="status" data-testid="account-added">
          Created {added}: they sign in with this username and password.
        </p>
      )}
    </form>
  )
}

export function AccountsSection({
  reading,
  organisations,
  user,
  onChanged,
}: {
  reading: Reading<Account[]>
  organisations: readonly Organisation[]
  /** The user signed in: their own account is marked. */
  user: string | undefined
  onChanged: () => Promise<void>
}) {
  const accounts = reading.value
  const byId = new Map(organisations.map((o) => [o.id, o]))
  const columns = 7
  return (
    <section
      className="sharing-section"
      aria-labelledby="access-accounts"
      data-testid="access-accounts"
      aria-busy={reading.loading}
    >
      <h2 id="access-accounts">Accounts {accounts && <span className="muted">({accounts.length})</span>}</h2>
      <p className="muted sharing-intro">
        People who sign in with a username and a password. Disabling an account ends its sessions at once and refuses
        its tokens until it is enabled again. You cannot disable your own account or drop your own admin role.
      </p>
      <LoadError error={reading.error} testId="accounts-load-error" />
      {!accounts && reading.loading && <p className="muted">Loading the accounts…</p>}
      {accounts &&
        (accounts.length === 0 ? (
          <p className="empty" data-testid="accounts-empty">
            No accounts yet.
          </p>
        ) : (
          <table className="table sharing-table" data-testid="accounts-table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Display name</th>
                <th scope="col">Organisation</th>
                <th scope="col">Roles</th>
                <th scope="col">State</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((account) => (
                <AccountRow
                  key={account.username}
                  account={account}
                  organisations={byId}
                  own={isOwnAccount(account, user)}
                  columns={columns}
                  onChanged={onChanged}
                />
              ))}
            </tbody>
          </table>
        ))}
      <AddAccountForm organisations={organisations} onChanged={onChanged} />
    </section>
  )
}
