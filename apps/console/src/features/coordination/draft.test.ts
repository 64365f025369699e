import { escalationChoices, makeEvent } from '@watchfloor/core'
import type { IncidentStatus } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import { choose, type Draft, rebase, startDraft, viewDraft } from './draft.ts'
import { picture } from './fixtures.test-helpers.ts'

const mediumReport = makeEvent(1, 'incident.reported', {
  incidentId: 'inc-1',
  title: 'Beaconing',
  severity: 'medium',
  category: 'malware',
  affectedNetworks: ['ee-gov'],
})
// a medium incident at version 1, then raised to high by someone else (version 2)
const medium = picture([mediumReport]).incidents.get('inc-1')!
const high = picture([
  mediumReport,
  makeEvent(2, 'incident.escalated', { incidentId: 'inc-1', severity: 'high', reason: 'spreading' }, { actor: 'mari' }),
]).incidents.get('inc-1')!

// the medium incident with its status set by someone else (version 2, severity unchanged)
const triaged = picture([
  mediumReport,
  makeEvent(2, 'incident.status_changed', { incidentId: 'inc-1', status: 'triaged' }, { actor: 'mari' }),
]).incidents.get('inc-1')!

describe('a draft keeps the person’s choice and the version it was started on', () => {
  it('without a draft, the form shows the first choice offered now', () => {
    expect(viewDraft(null, escalationChoices(medium))).toEqual({ value: 'high', gone: undefined })
    expect(viewDraft(null, escalationChoices(high))).toEqual({ value: 'critical', gone: undefined })
    expect(viewDraft(null, [])).toEqual({ value: undefined, gone: undefined })
  })

  it('[C7] a choice no longer offered is never replaced by another: the form says so and sends nothing', () => {
    const draft = choose(null, 'high', escalationChoices(medium), medium)
    expect(viewDraft(draft, escalationChoices(medium))).toEqual({ value: 'high', gone: undefined })
    // someone else escalated to high meanwhile: high is gone, and critical is NOT chosen in its place
    expect(viewDraft(draft, escalationChoices(high))).toEqual({ value: undefined, gone: 'high' })
  })

  it('[C8] the same for a status: contained set by someone else is not turned into another status', () => {
    const statuses = (now: IncidentStatus) =>
      (['new', 'triaged', 'contained', 'recovered', 'closed'] as const).filter((s) => s !== now)
    const draft: Draft<IncidentStatus> = choose(null, 'contained', statuses('new'), medium)
    expect(viewDraft(draft, statuses('contained'))).toEqual({ value: undefined, gone: 'contained' })
  })

  it('[C3] the command expects the version the draft was started on, not the live one', () => {
    // started by typing a reason: the choice shown becomes the person's, on the copy shown then
    const started = startDraft(null, escalationChoices(medium), medium)!
    expect(started).toEqual({ choice: 'high', basis: medium })
    expect(startDraft(started, escalationChoices(triaged), triaged)).toBe(started)
    // someone set the status meanwhile (version 2); another choice while the first is still offered
    // keeps the copy the draft was started on, so the change is a conflict the person sees
    const critical = choose(started, 'critical', escalationChoices(triaged), triaged)
    expect(critical.basis.version).toBe(1)
    expect(viewDraft(critical, escalationChoices(triaged)).value).toBe('critical')
  })

  it('choosing again after the choice went starts on the copy shown now: the person was told it changed', () => {
    const draft = choose(null, 'high', escalationChoices(medium), medium)
    const again = choose(draft, 'critical', escalationChoices(high), high)
    expect(again).toEqual({ choice: 'critical', basis: high })
  })

  it('[C3] once a conflict said what changed, the draft is based on the target as it is now; its choice stays', () => {
    const draft = choose(null, 'critical', escalationChoices(medium), medium)
    expect(rebase(draft, triaged)).toEqual({ choice: 'critical', basis: triaged })
    // never back to an older copy, and no draft is made from nothing
    const rebased = rebase(draft, triaged)
    expect(rebase(rebased, medium)).toBe(rebased)
    expect(rebase(null, triaged)).toBeNull()
  })
})
