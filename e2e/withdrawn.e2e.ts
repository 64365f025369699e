import { randomUUID } from 'node:crypto'
import { type APIRequestContext, expect } from '@playwright/test'
import { E2E_TOKENS, postEvents, signIn, test } from './fixtures.ts'

// unique to this run: the specs share one server
const run = randomUUID().slice(0, 8)

/** A service token the admin makes for a person of `organisation`. */
async function person(request: APIRequestContext, user: string, organisation: string, nation: string) {
  const made = await request.post('/api/v1/tokens', {
    headers: { authorization: `Bearer ${E2E_TOKENS.admin}` },
    data: { label: `e2e ${user}`, service: { user, organisation, nation, roles: ['coordinator'] } },
  })
  expect(made.status()).toBe(201)
  return ((await made.json()) as { secret: string }).secret
}

async function command(request: APIRequestContext, secret: string, body: object) {
  const reply = await request.post('/api/v1/commands', { headers: { authorization: `Bearer ${secret}` }, data: body })
  expect(reply.status(), await reply.text()).toBe(200)
}

test('[C18] an incident narrowed away from a partner: its console says it is no longer shared and offers no action, until it is shared again', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000)
  const incidentId = `inc-withdrawn-${run}`
  const owner = await person(request, `coord-ee-${run}`, 'cert-ee', 'EE')
  const partner = await person(request, `coord-lv-${run}`, 'cert-lv', 'LV')
  // cert-ee's incident, shared with cert-lv; a task of it for cert-lv's team
  await postEvents(request, [
    {
      id: randomUUID(),
      type: 'incident.reported',
      occurredAt: new Date().toISOString(),
      source: { organisation: 'cert-ee', network: 'ee-gov' },
      marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
      payload: {
        incidentId,
        title: `Withdrawn ${run}: exfiltration from the customs portal`,
        severity: 'medium',
        category: 'malware',
        affectedNetworks: ['ee-gov'],
      },
    },
  ])
  await command(request, owner, {
    type: 'task.create',
    incidentId,
    title: `Sweep ${run}`,
    priority: 'high',
    assignee: { kind: 'team', organisation: 'cert-lv' },
  })

  await signIn(page, partner)
  await page.getByTestId('tab-triage').click()
  const item = page.locator(`[data-testid="triage-item"][data-incident-id="${incidentId}"]`)
  await expect(item.getByTestId('triage-acknowledge')).toBeVisible()
  await item.getByTestId('triage-open').click()
  const detail = page.locator(`[data-testid="incident-detail"][data-incident-id="${incidentId}"]`)
  await expect(detail.getByTestId('action-escalate')).toBeVisible()
  const card = detail.locator('[data-testid="task-card"]', { hasText: `Sweep ${run}` })
  await expect(card.getByTestId('task-accept')).toBeVisible()

  // the owner narrows it to its own organisation: the partner receives nothing of it
  await command(request, owner, { type: 'incident.set_marking', incidentId, marking: { tlp: 'AMBER+STRICT' } })
  const waiting = Number(await page.getByTestId('triage-count').textContent())

  // the partner's copy still looks live; acknowledging it is refused as for an incident that does not exist
  await item.getByTestId('triage-acknowledge').click()
  const notice = item.getByTestId('triage-withdrawn')
  await expect(notice).toHaveText(
    'No longer shared with you: this is the copy you last received; changes to it are refused.',
  )
  await expect(item.getByTestId('triage-acknowledge')).toHaveCount(0)
  // it no longer waits for this viewer
  await expect(page.getByTestId('triage-count')).toHaveText(String(waiting - 1))
  await page.screenshot({ path: 'e2e/artifacts/withdrawn-triage.png' })

  // the detail panel and the task card say it too, and offer nothing
  await expect(detail.getByTestId('detail-withdrawn')).toBeVisible()
  await expect(detail).toHaveAttribute('data-withdrawn', 'true')
  for (const testid of [
    'action-acknowledge',
    'action-escalate',
    'action-set-status',
    'action-link',
    'network-state-select',
    'task-new',
    'comment-post',
    'marking-change',
  ])
    await expect(detail.getByTestId(testid), testid).toHaveCount(0)
  await expect(card.getByTestId('task-withdrawn')).toBeVisible()
  for (const testid of ['task-accept', 'task-start', 'task-block', 'task-reassign'])
    await expect(card.getByTestId(testid), testid).toHaveCount(0)
  // nothing is said about how it is marked now: all the answer reveals is that it is not shared
  await expect(detail).not.toContainText('STRICT')
  await expect(detail.getByTestId('tlp-badge').first()).toHaveText('TLP:AMBER')
  await detail.screenshot({ path: 'e2e/artifacts/withdrawn-detail.png' })

  // the pointer leaves: the row leaves the queue
  await page.mouse.move(5, 5)
  await expect(item).toHaveCount(0)

  // the owner shares it again: the report arrives live, and the partner may act again
  await command(request, owner, {
    type: 'incident.set_marking',
    incidentId,
    marking: { tlp: 'AMBER', releasableTo: ['cert-lv'] },
  })
  await expect(detail.getByTestId('detail-withdrawn')).toHaveCount(0)
  await expect(detail.getByTestId('action-escalate')).toBeVisible()
  await expect(card.getByTestId('task-withdrawn')).toHaveCount(0)
  await expect(card.getByTestId('task-accept')).toBeVisible()
  await expect(item.getByTestId('triage-acknowledge')).toBeVisible()
})
