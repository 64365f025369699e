/**
 * The Access page, for admins (`mayManageAccess`: not a display token, not while viewing as): who
 * may sign in to this floor and with what. Accounts (Accounts.tsx: the people, with a username and
 * a password) and tokens (Tokens.tsx: API tokens for accounts and service identities such as a
 * sensor, display tokens for wall screens). Every change goes to the server's own routes
 * (`/api/v1/accounts`, `/api/v1/tokens`), and every refusal is shown where the change was asked, as
 * the server worded it, naming the fields of `details.issues`; a form keeps what was typed.
 *
 * A page of its own rather than a section of Sharing: Sharing is about partners and what reaches
 * them, opened by liaisons and posting roles too; this is about this floor's own people and
 * screens, admins only. It is loaded on demand (shell/App.tsx), its styles with it.
 */
import { useCallback } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { loadDirectory } from '../sharing/directory.ts'
import { PageControls } from '../sharing/forms.tsx'
import { AccountsSection } from './Accounts.tsx'
import { loadAccounts } from './accounts.ts'
import { LoadError, useReading } from './reading.tsx'
import { TokensSection } from './Tokens.tsx'
import { loadPresets, loadTokens } from './tokens.ts'
import './access.css'

export function AccessPage() {
  const session = useWatchfloor((s) => s.session)
  const directory = useReading(loadDirectory)
  const accounts = useReading(loadAccounts)
  const tokens = useReading(loadTokens)
  const presets = useReading(loadPresets)
  const { reload: reloadAccounts } = accounts
  const { reload: reloadTokens } = tokens
  /** An account changed: its tokens may have too (a new password revokes them). */
  const accountsChanged = useCallback(async () => {
    await Promise.all([reloadAccounts(), reloadTokens()])
  }, [reloadAccounts, reloadTokens])
  const loading = directory.loading || accounts.loading || tokens.loading || presets.loading
  const organisations = directory.value?.organisations ?? []
  return (
    <main className="sharing access" data-testid="access-page">
      <PageControls
        page="access"
        loading={loading}
        readAt={accounts.at}
        onReload={() => {
          void directory.reload()
          void accounts.reload()
          void tokens.reload()
          void presets.reload()
        }}
      />
      <div className="sharing-body" aria-busy={loading}>
        <h1>Access</h1>
        <p className="muted">
          Who may sign in to this floor: the accounts of people (username and password), the API tokens of accounts and
          of sensors and relays, and the display tokens of wall screens. Secrets are shown once, when made; the server
          keeps only their hash.
        </p>
        <LoadError error={directory.error} testId="access-directory-error" />
        <div className="sharing-sections">
          <AccountsSection
            reading={accounts}
            organisations={organisations}
            user={session?.user}
            onChanged={accountsChanged}
          />
          <TokensSection
            reading={tokens}
            accounts={accounts.value ?? []}
            organisations={organisations}
            presets={presets}
            onChanged={reloadTokens}
          />
        </div>
      </div>
    </main>
  )
}
