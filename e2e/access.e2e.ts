/**
 * The Access page: an admin manages accounts and tokens from the console, against the real server.
 * A new watch officer's account is made (a refusal first, which keeps what was typed), the person
 * signs in with it, is disabled and can no longer sign in; a display token is issued for a wall, its
 * wall link opens a live wall, and revoking it takes the wall off the air. Names are unique per run:
 * every spec shares the server.
 */
import { randomUUID } from 'node:crypto'
import { type APIRequestContext, expect, type Locator, type Page } from '@playwright/test'
import { E2E_TOKENS, signIn, test } from './fixtures.ts'

async function openAccess(page: Page): Promise<void> {
  await page.getByTestId('open-access').click()
  await expect(page.getByTestId('access-page')).toBeVisible()
  await expect(page.getByTestId('accounts-table').or(page.getByTestId('accounts-empty'))).toBeVisible()
}

async function signInWithPassword(page: Page, username: string, password: string): Promise<void> {
  await page.getByTestId('username-input').fill(username)
  await page.getByTestId('password-input').fill(password)
  await page.getByTestId('password-sign-in').click()
}

/**
 * An admin of the alliance with a password (made through the API), signed in on the Access page:
 * a session (a cookie), as an admin at a console is, not a token.
 */
async function adminSignedIn(page: Page, request: APIRequestContext, username: string, password: string) {
  const made = await request.post('/api/v1/accounts', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: { username, displayName: `Admin ${username}`, organisation: 'alliance', roles: ['admin'], password },
  })
  expect(made.status(), await made.text()).toBe(201)
  // the link opens the page, once signed in
  await page.goto('/?access=1')
  await signInWithPassword(page, username, password)
  await expect(page.getByTestId('access-page')).toBeVisible({ timeout: 15_000 })
}

const accountRow = (page: Page, username: string): Locator =>
  page.locator(`[data-testid="account-row"][data-username="${username}"]`)

test('an admin makes an account, the person signs in with it, and once disabled is refused', async ({
  page,
  browser,
  baseURL,
}) => {
  test.setTimeout(120_000)
  const run = randomUUID().slice(0, 8)
  const username = `e2e-anu-${run}`
  const displayName = `Anu Access ${run}`
  const password = 'access e2e passphrase'

  await signIn(page, E2E_TOKENS.admin)
  await openAccess(page)

  // a refusal (too short a password) is shown where the form is, naming the field, and keeps what was typed
  const form = page.getByTestId('add-account')
  await form.getByTestId('new-account-username').fill(username)
  await form.getByTestId('new-account-name').fill(displayName)
  await form.getByTestId('new-account-organisation').selectOption('cert-ee')
  await expect(form.locator('[data-testid="new-account-role"][data-role="watch_officer"]')).toBeChecked()
  await form.getByTestId('new-account-password').fill('too short')
  await form.getByTestId('new-account-create').click()
  const refusal = form.getByTestId('add-account-error')
  await expect(refusal).toHaveAttribute('data-code', 'validation')
  await expect(refusal.locator('[data-testid="add-account-error-issue"][data-field="password"]')).toBeVisible()
  await expect(form.getByTestId('new-account-password-issue')).toBeVisible()
  await expect(form.getByTestId('new-account-username')).toHaveValue(username)
  await expect(form.getByTestId('new-account-name')).toHaveValue(displayName)
  await expect(form.getByTestId('new-account-organisation')).toHaveValue('cert-ee')
  await expect(accountRow(page, username)).toHaveCount(0)

  await form.getByTestId('new-account-password').fill(password)
  await form.getByTestId('new-account-create').click()
  await expect(form.getByTestId('account-added')).toContainText(username)
  await expect(refusal).toHaveCount(0)
  const row = accountRow(page, username)
  await expect(row).toHaveAttribute('data-disabled', 'false')
  await expect(row.getByTestId('account-display-name')).toHaveText(displayName)
  await expect(row.getByTestId('account-organisation')).toHaveText('cert-ee')
  await expect(row.getByTestId('account-roles')).toHaveText('watch officer')
  await expect(form.getByTestId('new-account-username')).toHaveValue('')

  // the new watch officer signs in, in a browser of their own
  const theirs = await browser.newContext({ baseURL: baseURL ?? '' })
  try {
    const person = await theirs.newPage()
    await person.goto('/')
    await signInWithPassword(person, username, password)
    await expect(person.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
    await expect(person.getByTestId('whoami-name')).toHaveText(displayName)
    await expect(person.getByTestId('whoami-roles')).toHaveText('watch officer')
    // no Access page for a watch officer, not even by its link
    await expect(person.getByTestId('open-access')).toHaveCount(0)
    await person.goto('/?access=1')
    await expect(person.getByTestId('connection-status')).toHaveText('live', { timeout: 15_000 })
    await expect(person.getByTestId('picture')).toBeVisible()
    await expect(person.getByTestId('access-page')).toHaveCount(0)

    // the admin disables the account: the person's session ends at once
    await row.getByTestId('account-toggle').click()
    await expect(row).toHaveAttribute('data-disabled', 'true')
    await expect(row.getByTestId('account-disabled')).toHaveText('disabled')
    await expect(person.getByTestId('username-input')).toBeVisible({ timeout: 15_000 })

    // and their next sign-in is refused, as a wrong password is
    await signInWithPassword(person, username, password)
    await expect(person.getByTestId('sign-in-error')).toContainText('wrong username or password')
    await expect(person.getByTestId('connection-status')).toHaveCount(0)
    await person.screenshot({ path: 'e2e/artifacts/access-disabled-sign-in.png' })
  } finally {
    await theirs.close()
  }
  await page.screenshot({ path: 'e2e/artifacts/access-accounts.png', fullPage: true })
})

test('an admin is not offered to disable their own account, and dropping their own admin role shows the server’s 409', async ({
  page,
  request,
}) => {
  const run = randomUUID().slice(0, 8)
  const username = `e2e-admin-${run}`
  const password = 'admin e2e passphrase'
  await adminSignedIn(page, request, username, password)
  const row = accountRow(page, username)
  await expect(row.getByTestId('account-you')).toBeVisible()

  // the server refuses it (409, tested in admin.int): the console does not offer it, and says why
  const toggle = row.getByTestId('account-toggle')
  await expect(toggle).toBeDisabled()
  await expect(toggle).toHaveAttribute('title', 'You cannot disable your own account (another admin can)')
  await expect(row).toHaveAttribute('data-disabled', 'false')

  await row.getByTestId('account-edit').click()
  const editor = page.getByTestId('account-editor')
  await editor.locator('[data-testid="account-role"][data-role="admin"]').uncheck()
  await editor.locator('[data-testid="account-role"][data-role="coordinator"]').check()
  await editor.getByTestId('account-roles-save').click()
  await expect(editor.getByTestId('account-roles-error')).toContainText('drop their own admin role')
  // what was chosen stays chosen, and nothing changed
  await expect(editor.locator('[data-testid="account-role"][data-role="coordinator"]')).toBeChecked()
  await expect(row.getByTestId('account-roles')).toHaveText('admin')

  // a new display name is theirs to set
  await editor.getByTestId('account-name-input').fill(`Admin ${run}, floor 2`)
  await editor.getByTestId('account-name-save').click()
  await expect(row.getByTestId('account-display-name')).toHaveText(`Admin ${run}, floor 2`)

  // viewing as another audience is read-only [A7]: the page and its button go, and come back on Stop
  await page.getByTestId('view-as-select').selectOption('organisation:cert-lv')
  await expect(page.getByTestId('view-as-banner')).toBeVisible({ timeout: 15_000 })
  await expect(page.getByTestId('picture')).toBeVisible()
  await expect(page.getByTestId('access-page')).toHaveCount(0)
  await expect(page.getByTestId('open-access')).toHaveCount(0)
  await page.getByTestId('view-as-stop').click()
  await expect(page.getByTestId('view-as-banner')).toHaveCount(0)
  await expect(page.getByTestId('open-access')).toBeVisible()
})

test('an admin signed in with a password issues a display token: its wall link opens a live wall, and revoking it takes the wall off', async ({
  page,
  request,
  baseURL,
  outsideRequests: _outside,
}) => {
  test.setTimeout(120_000)
  const run = randomUUID().slice(0, 8)
  const label = `e2e wall ${run}`

  // a session: every change it sends must say JSON, a revocation with no body too (it was refused
  // 403 while the token ways in passed)
  await adminSignedIn(page, request, `e2e-tokens-${run}`, 'tokens e2e passphrase')
  const form = page.getByTestId('issue-token')
  await form.getByTestId('token-kind').selectOption('display')
  // sent empty: the server's refusal; then a refusal of the form's own (an expiry that is not a
  // time, nothing sent) leaves no refusal of what was sent before beside it
  await form.getByTestId('token-issue').click()
  await expect(form.getByTestId('issue-token-error')).toContainText('label')
  await form.getByTestId('token-expiry').selectOption('at')
  await form.getByTestId('token-expires-at').fill('03/10/2030 2:30 PM')
  await form.getByTestId('token-issue').click()
  await expect(form.getByTestId('issue-token-error')).toHaveCount(0)
  await expect(form.getByTestId('token-expires-at')).toHaveAttribute('aria-invalid', 'true')
  await form.getByTestId('token-expiry').selectOption('default')
  await form.getByTestId('token-label-input').fill(label)
  await form.getByTestId('token-identity').selectOption('service')
  await form.getByTestId('token-service-user').fill(`wall-${run}`)
  await form.getByTestId('token-service-organisation').selectOption('cert-ee')
  // a display token takes no action: no roles are offered for it (an API token's are)
  await expect(form.getByTestId('token-display-roles')).toBeVisible()
  await expect(form.locator('[data-testid^="token-service-role"]')).toHaveCount(0)
  // the presets are the server's (GET /api/v1/wall/presets)
  await expect(form.locator('[data-testid="token-preset"] option[value="critical"]')).toHaveCount(1)
  await form.getByTestId('token-preset').selectOption('critical')
  await form.getByTestId('token-ceiling').selectOption('GREEN')
  await form.getByTestId('token-issue').click()

  // the secret, shown once, with the wall link
  const dialog = page.getByTestId('token-secret-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog).toHaveAttribute('data-kind', 'display')
  await expect(dialog.getByTestId('token-secret')).toHaveText(/^wf_[A-Za-z0-9_-]{43}$/)
  const secret = (await dialog.getByTestId('token-secret').textContent()) ?? ''
  await expect(dialog.getByTestId('token-wall-link')).toBeVisible()
  const link = (await dialog.getByTestId('token-wall-link').textContent()) ?? ''
  expect(link).toBe(`${baseURL}/wall#token=${secret}`)
  await expect(dialog.getByTestId('token-wall-open')).toHaveAttribute('href', link)
  await page.screenshot({ path: 'e2e/artifacts/access-token-secret.png' })

  // closing the dialog forgets the secret: nothing on the page nor in the tab's storage holds it
  await dialog.getByTestId('token-secret-close').click()
  // the focus goes back to the form, not to the page
  await expect(page.getByTestId('token-issue')).toBeFocused()
  await expect(dialog).toHaveCount(0)
  expect(await page.content()).not.toContain(secret)
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))
  expect(stored).not.toContain(secret)

  const row = page.locator('[data-testid="token-row"]', { hasText: label })
  await expect(row).toHaveAttribute('data-kind', 'display')
  await expect(row).toHaveAttribute('data-state', 'active')
  await expect(row.getByTestId('token-whose')).toContainText(`wall-${run}@cert-ee`)
  await expect(row.getByTestId('token-preset')).toHaveText('critical')
  await expect(row.getByTestId('token-ceiling')).toHaveText('TLP:GREEN')
  await expect(row.getByTestId('token-whose')).toContainText('service identity · read-only')

  // the wall screen opens the link and is live, held to the token's preset
  const screen = await page.context().newPage()
  await screen.goto(link)
  await expect(screen.getByTestId('wall')).toHaveAttribute('data-health', 'live', { timeout: 20_000 })
  await expect(screen.getByTestId('wall')).toHaveAttribute('data-preset', 'critical')
  expect(screen.url()).not.toContain(secret)

  // revoked, after a confirmation: the wall says so at once
  await row.getByTestId('token-revoke').click()
  await expect(screen.getByTestId('wall')).toHaveAttribute('data-health', 'live')
  await row.getByTestId('token-revoke-confirm').click()
  // the list shows the tokens in force: the revoked one is counted, and shown on demand
  await expect(row).toHaveCount(0)
  await expect(page.getByTestId('tokens-count')).toContainText(/revoked or expired\)$/)
  await page.getByTestId('tokens-show-off').check()
  await expect(row).toHaveAttribute('data-state', 'revoked')
  await expect(row.getByTestId('token-revoke')).toHaveCount(0)
  await expect(screen.getByTestId('wall-revoked')).toBeVisible({ timeout: 10_000 })
  await expect(screen.getByTestId('wall-revoked')).toContainText('ACCESS REVOKED')
  await expect(screen.getByTestId('wall')).toHaveCount(0)
  // a revoked token is never accepted again: the wall does not keep asking (each ask a 401 logged)
  const asked: string[] = []
  screen.on('request', (sent) => {
    if (new URL(sent.url()).pathname.startsWith('/api/')) asked.push(sent.url())
  })
  await screen.waitForTimeout(6_000) // the first ask of a refusal that may pass comes after 5 s
  expect(asked).toEqual([])
  await screen.screenshot({ path: 'e2e/artifacts/access-wall-revoked.png' })
  await page.screenshot({ path: 'e2e/artifacts/access-tokens.png', fullPage: true })
})
