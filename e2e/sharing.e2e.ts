import { expect, type Page } from '@playwright/test'
import { E2E_TOKENS, signIn, test } from './fixtures.ts'

const admin = { authorization: `Bearer ${E2E_TOKENS.admin}` }

/** The organisations table's row for `id`. */
const organisationRow = (page: Page, id: string) =>
  page.locator(`[data-testid="organisation-row"][data-organisation-id="${id}"]`)
const communityCard = (page: Page, id: string) => page.locator(`[data-testid="community"][data-community-id="${id}"]`)

async function openSharing(page: Page): Promise<void> {
  await page.getByTestId('open-sharing').click()
  await expect(page.getByTestId('sharing-page')).toBeVisible()
  await expect(page.getByTestId('organisations-table')).toBeVisible()
}

test('an admin adds an organisation and a community, and sees the server’s refusals where they asked', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  await page.setViewportSize({ width: 1440, height: 1200 })
  await signIn(page, E2E_TOKENS.admin)
  await openSharing(page)
  await expect(page.getByTestId('sharing-page')).toHaveAttribute('data-editable', 'true')
  // the organisations the static tokens name are in the directory from the start
  for (const id of ['alliance', 'cert-ee', 'cert-lv']) await expect(organisationRow(page, id)).toBeVisible()

  // a new organisation, typed in with the keyboard's help
  const form = page.getByTestId('add-organisation')
  await form.getByLabel('Id', { exact: true }).fill('cert-fi-e2e')
  await form.getByLabel('Name', { exact: true }).fill('CERT Finland (e2e)')
  await form.getByLabel('Kind', { exact: true }).selectOption('ally_cert')
  await form.getByLabel('Nation', { exact: true }).fill('FI')
  await form.getByLabel('Nation', { exact: true }).press('Enter') // submits the form
  const fi = organisationRow(page, 'cert-fi-e2e')
  await expect(fi).toBeVisible()
  await expect(fi).toContainText('CERT Finland (e2e)')
  await expect(fi).toContainText('FI')
  await expect(fi).toContainText('Allied CERT')
  await expect(fi).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/) // updated, in UTC
  await expect(form.getByLabel('Id', { exact: true })).toHaveValue('')

  // 400: the field the server names is marked, with its words
  await form.getByLabel('Id', { exact: true }).fill('cert-xx-e2e')
  await form.getByLabel('Name', { exact: true }).fill('Lower-case nation')
  await form.getByLabel('Nation', { exact: true }).fill('xx')
  await form.getByTestId('organisation-add').click()
  const invalid = page.getByTestId('add-organisation-error')
  await expect(invalid).toBeVisible()
  await expect(invalid).toHaveAttribute('data-code', 'validation')
  await expect(invalid.getByTestId('add-organisation-error-issue')).toHaveAttribute('data-field', 'nation')
  await expect(invalid.getByTestId('add-organisation-error-issue')).toContainText('Nation')
  await expect(form.getByLabel('Nation', { exact: true })).toHaveAttribute('aria-invalid', 'true')
  await expect(form.getByTestId('organisation-nation-issue')).toContainText('ISO 3166')
  await expect(organisationRow(page, 'cert-xx-e2e')).toHaveCount(0)

  // 409: an id that is taken; the page shows what the server says
  const taken = await request.post('/api/v1/directory/organisations', {
    headers: admin,
    data: { id: 'cert-ee', name: 'Again', nation: 'EE', kind: 'ally_cert' },
  })
  expect(taken.status()).toBe(409)
  const takenMessage = ((await taken.json()) as { error: { message: string } }).error.message
  await form.getByLabel('Id', { exact: true }).fill('cert-ee')
  await form.getByLabel('Name', { exact: true }).fill('Again')
  await form.getByLabel('Nation', { exact: true }).fill('EE')
  await form.getByTestId('organisation-add').click()
  await expect(invalid).toHaveAttribute('data-code', 'conflict')
  // the server's words, not its status: the note's headline says it was refused
  await expect(page.getByTestId('add-organisation-error-message')).toHaveText(
    takenMessage.charAt(0).toUpperCase() + takenMessage.slice(1),
  )
  await expect(invalid).toContainText('Refused:')
  await invalid.getByRole('button', { name: 'Dismiss the error' }).click()
  await expect(invalid).toHaveCount(0)

  // a community of two members
  const add = page.getByTestId('add-community')
  await add.getByLabel('Id', { exact: true }).fill('baltic-e2e')
  await add.getByLabel('Name', { exact: true }).fill('Baltic and Nordic CERTs')
  await add.getByRole('checkbox', { name: /cert-lv/ }).check()
  await add.getByRole('checkbox', { name: /cert-fi-e2e/ }).check()
  await expect(add.getByTestId('community-members-picker')).toContainText('2 chosen')
  await add.getByTestId('community-add').click()
  const baltic = communityCard(page, 'baltic-e2e')
  await expect(baltic).toBeVisible()
  await expect(baltic.getByTestId('community-name')).toHaveText('Baltic and Nordic CERTs')
  await expect(baltic.getByTestId('community-member')).toHaveCount(2)
  await expect(baltic.locator('[data-member-id="cert-lv"]')).toBeVisible()
  await expect(baltic.locator('[data-member-id="cert-fi-e2e"]')).toContainText('CERT Finland (e2e)')
  await expect(organisationRow(page, 'cert-lv').getByTestId('organisation-communities')).toContainText('baltic-e2e')
  await expect(fi.getByTestId('organisation-communities')).toContainText('baltic-e2e')

  // the server refuses to delete an organisation a community names: the refusal is in the row
  await fi.getByTestId('organisation-delete').click()
  await expect(fi.getByRole('button', { name: 'Cancel' })).toBeFocused()
  await fi.getByTestId('organisation-delete-confirm').click()
  const refusal = page.getByTestId('organisation-error')
  await expect(refusal).toHaveAttribute('data-code', 'conflict')
  await expect(refusal).toContainText('Refused:')
  await expect(refusal).toContainText('in use')
  await expect(refusal).toContainText('baltic-e2e')
  await expect(fi).toBeVisible()

  // members: add one, remove one (members replaces the set on the server)
  await baltic.getByLabel('Add a member to baltic-e2e').selectOption('cert-ee')
  await baltic.getByTestId('community-add-member-submit').click()
  await expect(baltic.getByTestId('community-member')).toHaveCount(3)
  await baltic.getByRole('button', { name: 'Remove cert-fi-e2e from baltic-e2e' }).click()
  await expect(baltic.getByTestId('community-member')).toHaveCount(2)
  await expect(baltic.locator('[data-member-id="cert-fi-e2e"]')).toHaveCount(0)
  await expect(fi.getByTestId('organisation-communities')).toContainText('none')
  const stored = await request.get('/api/v1/directory', { headers: admin })
  const { communities } = (await stored.json()) as { communities: { id: string; members: string[] }[] }
  expect(communities.find((c) => c.id === 'baltic-e2e')?.members).toEqual(['cert-ee', 'cert-lv'])

  // rename, with the keyboard
  await baltic.getByTestId('community-rename-open').click()
  const rename = baltic.getByTestId('community-rename-input')
  await expect(rename).toBeFocused()
  await rename.fill('Baltic CERTs')
  await rename.press('Enter')
  await expect(baltic.getByTestId('community-name')).toHaveText('Baltic CERTs')

  // a community made elsewhere appears on Reload, and is deleted after the second press
  const scratch = await request.post('/api/v1/directory/communities', {
    headers: admin,
    data: { id: 'scratch-e2e', name: 'Scratch', members: [] },
  })
  expect(scratch.status()).toBe(201)
  await page.getByTestId('sharing-reload').click()
  const scratchCard = communityCard(page, 'scratch-e2e')
  await expect(scratchCard).toContainText('No members.')
  await scratchCard.getByTestId('community-delete').click()
  await scratchCard.getByTestId('community-delete-confirm').click()
  await expect(scratchCard).toHaveCount(0)

  // a second community, so the page has something of each kind to show
  await add.getByLabel('Id', { exact: true }).fill('alliance-ops-e2e')
  await add.getByLabel('Name', { exact: true }).fill('Alliance operations')
  await add.getByRole('checkbox', { name: /^alliance\b/ }).check()
  await add.getByRole('checkbox', { name: /cert-fi-e2e/ }).check()
  await add.getByTestId('community-add').click()
  await expect(communityCard(page, 'alliance-ops-e2e').getByTestId('community-member')).toHaveCount(2)

  await page.getByTestId('sharing-page').evaluate((el) => el.scrollTo(0, 0))
  await page.screenshot({ path: 'e2e/artifacts/sharing.png' })

  // back to the picture
  await page.getByTestId('sharing-back').click()
  await expect(page.getByTestId('sharing-page')).toHaveCount(0)
  await expect(page.getByTestId('tab-incidents')).toBeVisible()
})

test('a liaison sees the directory read-only, with only its own organisation’s communities', async ({
  page,
  request,
  outsideRequests: _outside,
}) => {
  // one community with the liaison's organisation (cert-lv), one without
  for (const community of [
    { id: 'riga-e2e', name: 'Riga exchange', members: ['cert-lv', 'cert-ee'] },
    { id: 'tallinn-e2e', name: 'Tallinn only', members: ['cert-ee'] },
  ]) {
    const made = await request.post('/api/v1/directory/communities', { headers: admin, data: community })
    expect(made.status()).toBe(201)
  }

  // not for everyone: a watch officer has no Sharing link
  await signIn(page, E2E_TOKENS.officer)
  await expect(page.getByTestId('open-handover')).toBeVisible()
  await expect(page.getByTestId('open-sharing')).toHaveCount(0)
  await page.getByTestId('sign-out').click()

  await signIn(page, E2E_TOKENS.liaison)
  await openSharing(page)
  const sharing = page.getByTestId('sharing-page')
  await expect(sharing).toHaveAttribute('data-editable', 'false')
  await expect(page.getByTestId('sharing-readonly')).toContainText('cert-lv')

  // every organisation, but only the communities cert-lv belongs to
  for (const id of ['alliance', 'cert-ee', 'cert-lv']) await expect(organisationRow(page, id)).toBeVisible()
  await expect(communityCard(page, 'riga-e2e')).toBeVisible()
  await expect(communityCard(page, 'riga-e2e').getByTestId('community-member')).toHaveCount(2)
  await expect(communityCard(page, 'tallinn-e2e')).toHaveCount(0)
  await expect(organisationRow(page, 'cert-ee').getByTestId('organisation-communities')).not.toContainText(
    'tallinn-e2e',
  )

  // nothing to change: no forms, no buttons that change the directory
  await expect(page.getByTestId('add-organisation')).toHaveCount(0)
  await expect(page.getByTestId('add-community')).toHaveCount(0)
  await expect(sharing.getByRole('button', { name: /^(Delete|Rename|Remove)/ })).toHaveCount(0)
  await expect(sharing.getByTestId('community-add-member')).toHaveCount(0)
  await expect(sharing.locator('input, select')).toHaveCount(0)
})
