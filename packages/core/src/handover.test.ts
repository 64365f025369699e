import type { StoredEvent, Viewer } from '@watchfloor/protocol'
import { describe, expect, it } from 'vitest'
import {
  HandoverBuilder,
  handoverAge,
  handoverBrief,
  handoverMarkdown,
  handoverSections,
  handoverTime,
} from './handover.ts'
import { fold } from './reduce.ts'
import { initialState } from './state.ts'
import { makeEvent } from './testing.ts'
import { documentMarking, markingBanner } from './visibility.ts'

const kadri: Viewer = { organisation: 'cert-ee', nation: 'EE', roles: ['coordinator'], userId: 'kadri' }
const janis: Viewer = { organisation: 'cert-lv', nation: 'LV', roles: ['liaison'], userId: 'janis' }

const T = (minute: number) => new Date(Date.UTC(2026, 10, 26, 8, minute)).toISOString()
const SINCE = T(10)
const UNTIL = T(50)

let seq = 0
function at(minute: number, type: Parameters<typeof makeEvent>[1], payload: object, options = {}): StoredEvent {
  return makeEvent(++seq, type, payload as never, { occurredAt: T(minute), actor: 'coord-a', ...options })
}

const report = (minute: number, incidentId: string, severity: string, options = {}) =>
  at(
    minute,
    'incident.reported',
    { incidentId, title: `Title ${incidentId}`, severity, category: 'x', affectedNetworks: [] },
    options,
  )

function scenario() {
  seq = 0
  const before = [
    report(1, 'old-open', 'low'),
    report(2, 'old-closing', 'medium'),
    at(3, 'task.created', {
      taskId: 't-old',
      incidentId: 'old-open',
      title: 'Old task',
      priority: 'normal',
      dueAt: T(20),
    }),
  ]
  const window = [
    report(11, 'new-1', 'high'),
    report(12, 'secret', 'critical', { marking: { tlp: 'AMBER+STRICT' } }),
    at(13, 'incident.escalated', { incidentId: 'old-open', severity: 'critical', reason: 'spreading' }),
    at(14, 'incident.status_changed', { incidentId: 'old-closing', status: 'closed', reason: 'done' }),
    at(15, 'incident.acknowledged', { incidentId: 'new-1' }),
    at(16, 'task.created', {
      taskId: 't-1',
      incidentId: 'new-1',
      title: 'Isolate hosts',
      priority: 'high',
      assignee: { kind: 'user', userId: 'kadri' },
    }),
    at(17, 'task.accepted', { taskId: 't-1' }, { actor: 'kadri' }),
    at(18, 'task.completed', { taskId: 't-1', note: 'isolated' }, { actor: 'kadri' }),
    at(
      19,
      'task.created',
      { taskId: 't-s', incidentId: 'secret', title: 'Secret task', priority: 'urgent' },
      {
        marking: { tlp: 'AMBER+STRICT' },
      },
    ),
    at(20, 'comment.posted', { commentId: 'c-1', incidentId: 'new-1', body: 'ok', mentions: [] }),
    at(21, 'incident.observation', { incidentId: 'new-1', count: 3 }),
    at(22, 'advisory.published', { advisoryId: 'adv-1', title: 'Patch now', body: 'Patch the *VPN*' }),
  ]
  // recorded within the window, except the first three
  for (const event of before) event.recordedAt = T(5)
  for (const event of window) event.recordedAt = event.occurredAt
  return { before, window }
}

describe('handover brief', () => {
  it('lists what changed in the window for the viewer, and what stands at its end', () => {
    const { before, window } = scenario()
    const state = fold(initialState, before)
    const brief = handoverBrief(state, window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.new.map((i) => i.incidentId)).toEqual(['secret', 'new-1'])
    expect(brief.incidents.escalated).toEqual([
      expect.objectContaining({
        incidentId: 'old-open',
        previousSeverity: 'low',
        severity: 'critical',
        reason: 'spreading',
      }),
    ])
    expect(brief.incidents.closed).toEqual([expect.objectContaining({ incidentId: 'old-closing', reason: 'done' })])
    expect(brief.incidents.updated).toEqual([])
    expect(brief.tasks.assigned).toEqual([expect.objectContaining({ taskId: 't-1', by: 'coord-a', status: 'done' })])
    expect(brief.tasks.done).toEqual([expect.objectContaining({ taskId: 't-1', by: 'kadri', at: T(18) })])
    expect(brief.tasks.overdue.map((t) => t.taskId)).toEqual(['t-old'])
    expect(brief.tasks.open.map((t) => t.taskId)).toEqual(['t-s', 't-old'])
    expect(brief.advisories.map((a) => a.advisoryId)).toEqual(['adv-1'])
    expect(brief.tlp).toBe('AMBER+STRICT')
    expect(brief.counts).toMatchObject({ comments: 1, observations: 1, events: window.length, openIncidents: 3 })
  })

  it('[V4s] leaves out everything the viewer may not see', () => {
    const { before, window } = scenario()
    const state = fold(initialState, before)
    const brief = handoverBrief(state, window, { viewer: janis, since: SINCE, until: UNTIL })
    const text = JSON.stringify(brief)
    expect(text).not.toContain('secret')
    expect(text).not.toContain('Secret task')
    expect(brief.tlp).toBe('GREEN')
  })

  it('ignores events recorded outside the window', () => {
    const { before, window } = scenario()
    const late = window.map((e) => ({ ...e, recordedAt: T(55) }))
    const brief = handoverBrief(fold(initialState, before), late, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.counts.events).toBe(0)
    expect(brief.incidents.new).toEqual([])
  })

  it('renders a printable Markdown document: the summary first, then the sections in words, text escaped', () => {
    const { before, window } = scenario()
    window.push(
      at(24, 'comment.posted', { commentId: 'c-2', incidentId: 'new-1', body: 'see *this* [link]', mentions: [] }),
    )
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    const text = handoverMarkdown(brief)
    expect(text.startsWith('**TLP:AMBER+STRICT**')).toBe(true)
    expect(text).toContain('# Shift handover brief')
    expect(text).toContain('- Window: 2026-11-26 08:10Z to 2026-11-26 08:50Z (recorded time)')
    // the same order as the page: summary, then the sections
    const headings = text.split('\n').filter((line) => line.startsWith('## '))
    expect(headings).toEqual([
      '## Summary',
      '## Needs attention (2)',
      '## Open incidents (3)',
      '## Closed this shift (1)',
      '## Tasks open / overdue (2)',
      '## Tasks done this shift (1)',
      '## Acknowledgements (1)',
      '## Comments (2)',
      '## Advisories (1)',
    ])
    expect(text).toContain(`## Summary\n\n${brief.summary}\n`)
    expect(text).toContain(
      '- **Isolate hosts**: Incident: Title new-1; Status: done; Priority: high; Assigned to: kadri; Completed: 2026-11-26 08:18Z by kadri; Completion note: isolated; TLP: GREEN; Task id: t-1',
    )
    expect(text).toContain(
      '- **Title new-1**: Severity: high; Status: new; Owner: cert-ee; Acknowledgement: by coord-a at 2026-11-26 08:15Z;',
    )
    expect(text).toContain('Due: 2026-11-26 08:20Z (overdue)')
    expect(text).toContain('  > see \\*this\\* \\[link\\]')
    expect(text).not.toMatch(/\bseverity\b:|incidentId|acknowledgedBy|\d{2}:\d{2}:\d{2}\.\d{3}Z/)
  })

  it('summarises the shift first: counts, then each open incident that needs attention, named', () => {
    const { before, window } = scenario()
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    // open: old-open (escalated to critical, not acknowledged), secret (critical, new), new-1 (high, acknowledged)
    expect(brief.incidents.open.map((i) => i.incidentId)).toEqual(['old-open', 'secret', 'new-1'])
    expect(brief.incidents.attention.map((i) => i.incidentId)).toEqual(['old-open', 'secret'])
    expect(brief.counts).toMatchObject({
      newIncidents: 2,
      closedIncidents: 1,
      escalatedIncidents: 1,
      openIncidents: 3,
      attentionIncidents: 2,
      unacknowledgedCriticalHigh: 2,
      acknowledgements: 1,
    })
    expect(brief.incidents.open[2]).toMatchObject({ acknowledgedBy: 'coord-a', acknowledgedAt: T(15) })
    expect(brief.summary).toBe(
      'Since 2026-11-26 08:10Z: 2 incidents reported, 1 closed, 1 escalated; 3 open, of which 2 critical or high not acknowledged. ' +
        'Needs attention: “Title old-open” (critical, new, owner cert-ee, not acknowledged, open 49 min); ' +
        '“Title secret” (critical, new, owner cert-ee, not acknowledged, open 38 min).',
    )
    expect(brief.acknowledgements).toEqual([
      expect.objectContaining({ incidentId: 'new-1', incidentTitle: 'Title new-1', by: 'coord-a', at: T(15) }),
    ])
    expect(brief.comments).toEqual([
      expect.objectContaining({ incidentTitle: 'Title new-1', body: 'ok', author: 'coord-a', at: T(20) }),
    ])
  })

  it('a critical incident needs attention even when acknowledged; an acknowledged high one does not; the assignee is named', () => {
    const { before, window } = scenario()
    window.push(
      at(30, 'incident.acknowledged', { incidentId: 'old-open' }, { actor: 'kadri' }),
      at(31, 'task.created', {
        taskId: 't-2',
        incidentId: 'old-open',
        title: 'Call the owner',
        priority: 'high',
        assignee: { kind: 'team', organisation: 'cert-lv' },
      }),
    )
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.attention.map((i) => i.incidentId)).toEqual(['old-open', 'secret'])
    expect(brief.counts.unacknowledgedCriticalHigh).toBe(1)
    expect(brief.summary).toContain(
      '“Title old-open” (critical, new, owner cert-ee, acknowledged by kadri, assigned to team cert-lv, open 49 min)',
    )
    expect(brief.summary).not.toContain('Title new-1')
    const attention = handoverSections(brief).find((s) => s.key === 'attention')!
    expect(attention.entries[0]!.fields).toEqual(
      expect.arrayContaining([
        { label: 'Severity', value: 'critical' },
        { label: 'Acknowledgement', value: 'by kadri at 2026-11-26 08:30Z' },
        { label: 'Assigned to', value: 'team cert-lv' },
        { label: 'Escalated', value: 'from low to critical at 2026-11-26 08:13Z by coord-a, reason: spreading' },
        { label: 'Age', value: '49 min' },
      ]),
    )
  })

  it('an incident escalated twice says each escalation with its own from, to, actor and reason, not the start with the last actor', () => {
    seq = 0
    const before = [report(1, 'inc-e', 'medium', { actor: 'sensor-ee' })]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      at(
        12,
        'incident.escalated',
        { incidentId: 'inc-e', severity: 'high', reason: 'EE sees more' },
        { actor: 'coord-ee' },
      ),
      at(14, 'incident.acknowledged', { incidentId: 'inc-e' }, { actor: 'coord-ee' }),
      at(
        16,
        'incident.escalated',
        { incidentId: 'inc-e', severity: 'critical', reason: 'LV escalates' },
        { actor: 'coord-lv' },
      ),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    // fed one event a page: the severity each escalation starts from is the picture's just before it
    const builder = new HandoverBuilder(fold(initialState, before), { viewer: kadri, since: SINCE, until: UNTIL })
    for (const event of window) builder.add([event])
    const brief = builder.finish()
    const whole = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(whole).toEqual(brief)
    expect(brief.incidents.escalated).toEqual([
      expect.objectContaining({
        incidentId: 'inc-e',
        previousSeverity: 'medium',
        severity: 'critical',
        at: T(16),
        by: 'coord-lv',
        reason: 'LV escalates',
        escalations: [
          { at: T(12), by: 'coord-ee', from: 'medium', to: 'high', reason: 'EE sees more' },
          { at: T(16), by: 'coord-lv', from: 'high', to: 'critical', reason: 'LV escalates' },
        ],
      }),
    ])
    const open = handoverSections(brief).find((section) => section.key === 'open')!
    expect(open.entries[0]!.fields).toContainEqual({
      label: 'Escalated',
      value:
        'from medium to critical: medium to high at 2026-11-26 08:12Z by coord-ee, reason: EE sees more; ' +
        'high to critical at 2026-11-26 08:16Z by coord-lv, reason: LV escalates',
    })
    expect(handoverMarkdown(brief)).not.toContain('from medium at')
  })

  it('an escalation after a lower update starts from that update’s severity; raised by an update alone, nobody is named as escalating', () => {
    seq = 0
    const before = [report(1, 'inc-u', 'medium'), report(2, 'inc-v', 'low')]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      at(12, 'incident.updated', { incidentId: 'inc-u', severity: 'low' }, { actor: 'sensor-ee' }),
      at(13, 'incident.escalated', { incidentId: 'inc-u', severity: 'high', reason: 'spreading' }, { actor: 'mari' }),
      at(14, 'incident.updated', { incidentId: 'inc-v', severity: 'high' }, { actor: 'sensor-ee' }),
      at(15, 'incident.acknowledged', { incidentId: 'inc-v' }, { actor: 'mari' }),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    const escalated = (id: string) => brief.incidents.escalated.find((item) => item.incidentId === id)!
    expect(escalated('inc-u').escalations).toEqual([
      { at: T(13), by: 'mari', from: 'low', to: 'high', reason: 'spreading' },
    ])
    expect(escalated('inc-v').escalations).toBeUndefined()
    const fields = (id: string) =>
      handoverSections(brief)
        .find((section) => section.key === 'open')!
        .entries.find((entry) => entry.fields.some((f) => f.value === id))!.fields
    expect(fields('inc-u')).toContainEqual({
      label: 'Escalated',
      value: 'from medium to high: low to high at 2026-11-26 08:13Z by mari, reason: spreading',
    })
    expect(fields('inc-v')).toContainEqual({ label: 'Escalated', value: 'from low to high, by a report or an update' })
  })

  it('says the last change and its reason: a status set after an escalation is not lost behind it', () => {
    seq = 0
    const before = [report(1, 'inc-w', 'high'), report(2, 'inc-x', 'medium')]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      at(12, 'incident.updated', { incidentId: 'inc-w', severity: 'critical' }, { actor: 'sensor-ee' }),
      at(
        14,
        'incident.status_changed',
        { incidentId: 'inc-w', status: 'contained', reason: 'Perimeter blocks of 445/tcp in place' },
        { actor: 'mari' },
      ),
      at(15, 'incident.status_changed', { incidentId: 'inc-x', status: 'triaged' }, { actor: 'kadri' }),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.escalated.find((item) => item.incidentId === 'inc-w')?.lastChange).toEqual({
      what: 'status contained',
      at: T(14),
      by: 'mari',
      reason: 'Perimeter blocks of 445/tcp in place',
    })
    const fields = (id: string) =>
      handoverSections(brief)
        .find((section) => section.key === 'open')!
        .entries.find((entry) => entry.fields.some((f) => f.value === id))!.fields
    expect(fields('inc-w')).toContainEqual({
      label: 'Escalated',
      value: 'from high to critical, by a report or an update',
    })
    expect(fields('inc-w')).toContainEqual({
      label: 'Last change',
      value:
        'status contained, 2026-11-26 08:14Z by mari, reason: Perimeter blocks of 445/tcp in place (2 changes this shift)',
    })
    expect(fields('inc-x')).toContainEqual({
      label: 'Last change',
      value: 'status triaged, 2026-11-26 08:15Z by kadri (1 change this shift)',
    })
    expect(handoverMarkdown(brief)).toContain('reason: Perimeter blocks of 445/tcp in place')
  })

  it('"Reported" names the first report’s author with its time, though another user reported it again since', () => {
    seq = 0
    const before = [report(1, 'inc-r', 'medium', { actor: 'sensor-ee' })]
    for (const event of before) event.recordedAt = T(5)
    const window = [report(12, 'inc-r', 'medium', { actor: 'coord-ee', marking: { tlp: 'AMBER' } })]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.open).toEqual([
      expect.objectContaining({ incidentId: 'inc-r', reportedAt: T(1), reportedBy: 'sensor-ee' }),
    ])
    const open = handoverSections(brief).find((section) => section.key === 'open')!
    expect(open.entries[0]!.fields).toContainEqual({ label: 'Reported', value: '2026-11-26 08:01Z by sensor-ee' })
    // an incident nobody touched in the window: its listed change is that first report
    const quiet = handoverBrief(fold(initialState, [...before, ...window]), [], {
      viewer: kadri,
      since: T(30),
      until: UNTIL,
    })
    expect(quiet.incidents.open).toEqual([
      expect.objectContaining({ at: T(1), by: 'sensor-ee', reportedBy: 'sensor-ee' }),
    ])
  })

  it('says the notes and reasons people gave: an acknowledgement’s note, a completion’s note, a reopening’s and a block’s reason', () => {
    seq = 0
    const before = [
      report(1, 'inc-n', 'high'),
      at(2, 'task.created', { taskId: 't-a', incidentId: 'inc-n', title: 'Sweep', priority: 'high' }),
      at(3, 'task.created', { taskId: 't-b', incidentId: 'inc-n', title: 'Patch', priority: 'normal' }),
      at(4, 'task.created', { taskId: 't-c', incidentId: 'inc-n', title: 'Call', priority: 'low' }),
    ]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      at(12, 'incident.acknowledged', { incidentId: 'inc-n', note: 'on it' }, { actor: 'mari' }),
      at(13, 'task.completed', { taskId: 't-a', note: 'swept' }, { actor: 'mari' }),
      at(14, 'task.completed', { taskId: 't-b' }, { actor: 'mari' }),
      at(15, 'task.reopened', { taskId: 't-b', reason: 'again' }, { actor: 'kadri' }),
      at(16, 'task.blocked', { taskId: 't-c', reason: 'no VPN' }, { actor: 'mari' }),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.acknowledgements).toEqual([expect.objectContaining({ by: 'mari', note: 'on it' })])
    expect(brief.incidents.open).toEqual([
      expect.objectContaining({ acknowledgedBy: 'mari', acknowledgedNote: 'on it' }),
    ])
    expect(brief.tasks.done).toEqual([expect.objectContaining({ taskId: 't-a', completedNote: 'swept' })])
    const text = handoverMarkdown(brief)
    expect(text).toContain('Acknowledgement: by mari at 2026-11-26 08:12Z, note: on it;')
    expect(text).toContain('Acknowledged by: mari (cert-ee); At: 2026-11-26 08:12Z; Note: on it;')
    expect(text).toContain('- **Sweep**: Incident: Title inc-n; Status: done;')
    expect(text).toContain('Completed: 2026-11-26 08:13Z by mari; Completion note: swept;')
    expect(text).toMatch(/- \*\*Patch\*\*: [^\n]*Status: open; [^\n]*Reopened because: again;/)
    expect(text).toMatch(/- \*\*Call\*\*: [^\n]*Status: blocked; [^\n]*Blocked because: no VPN;/)
  })

  it('says so when nothing is open, and the viewer who may not see the secret incident is told nothing of it', () => {
    const empty = handoverBrief(initialState, [], { viewer: kadri, since: SINCE, until: UNTIL })
    expect(empty.summary).toBe(
      'Since 2026-11-26 08:10Z: 0 incidents reported, 0 closed, 0 escalated; 0 open, of which 0 critical or high not acknowledged. No incident is open.',
    )
    expect(handoverSections(empty).map((s) => s.entries.length)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    const { before, window } = scenario()
    const brief = handoverBrief(fold(initialState, before), window, { viewer: janis, since: SINCE, until: UNTIL })
    expect(brief.summary).toContain('1 incident reported')
    expect(brief.summary).not.toContain('secret')
  })

  it('writes ages and times in words, UTC with Z', () => {
    expect(handoverAge(30_000)).toBe('under a minute')
    expect(handoverAge(38 * 60_000)).toBe('38 min')
    expect(handoverAge((2 * 60 + 5) * 60_000)).toBe('2 h 05 min')
    expect(handoverAge((3 * 24 + 4) * 3_600_000)).toBe('3 d 4 h')
    expect(handoverTime('2026-11-26T08:10:59.000+02:00')).toBe('2026-11-26 06:10Z')
  })

  it('[M1] the brief is marked with the strictest TLP and PAP of what it lists, first and last line [M2]', () => {
    const { before, window } = scenario()
    window.push(
      at(
        23,
        'advisory.published',
        { advisoryId: 'adv-2', title: 'Amber note', body: 'x' },
        { marking: { tlp: 'AMBER', pap: 'AMBER' } },
      ),
    )
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.marking).toEqual({ tlp: 'AMBER+STRICT', pap: 'AMBER' })
    expect(brief.tlp).toBe('AMBER+STRICT')
    const lines = handoverMarkdown(brief).trimEnd().split('\n')
    expect(lines[0]).toBe('**TLP:AMBER+STRICT · PAP:AMBER**')
    expect(lines.at(-1)).toBe(lines[0])
  })

  it('[M1] what a listed incident says, and every event counted, mark the brief: a GREEN report with a RED update is RED', () => {
    seq = 0
    const red = { marking: { tlp: 'RED', recipients: ['kadri'] } }
    const green = { marking: { tlp: 'GREEN' } }
    const window = [
      report(11, 'inc-g', 'high', green),
      at(12, 'incident.updated', { incidentId: 'inc-g', severity: 'critical', status: 'contained' }, red),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(initialState, window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.new).toMatchObject([{ incidentId: 'inc-g', severity: 'critical', tlp: 'RED' }])
    expect(brief.marking).toEqual({ tlp: 'RED' })
    expect(handoverMarkdown(brief).split('\n')[0]).toContain('TLP:RED')

    // the RED update before the window: the incident still open at its end says what it made it
    const standing = handoverBrief(fold(initialState, window), [], { viewer: kadri, since: SINCE, until: UNTIL })
    expect(standing.incidents.open).toMatchObject([{ incidentId: 'inc-g', severity: 'critical', tlp: 'RED' }])
    expect(standing.marking).toEqual({ tlp: 'RED' })

    // an observation of an incident the brief does not list (closed before the window) is only in
    // the counts: they carry its marking
    seq = 0
    const before = [
      report(1, 'inc-h', 'high', green),
      at(2, 'incident.status_changed', { incidentId: 'inc-h', status: 'closed', reason: 'done' }, green),
    ]
    for (const event of before) event.recordedAt = T(5)
    const counted = [
      at(13, 'incident.observation', { incidentId: 'inc-h', count: 777 }, { marking: { tlp: 'AMBER+STRICT' } }),
    ]
    for (const event of counted) event.recordedAt = event.occurredAt
    const observed = handoverBrief(fold(initialState, before), counted, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(observed.counts).toMatchObject({ observations: 1, events: 1, openIncidents: 0 })
    expect(observed.marking).toEqual({ tlp: 'AMBER+STRICT' })
  })

  it('[M1] a task row says what its later events made it; an acknowledgement row the incident’s severity now; bookmarks are the viewer’s own', () => {
    seq = 0
    const red = { marking: { tlp: 'RED', recipients: ['kadri'] } }
    const green = { marking: { tlp: 'GREEN' } }
    const before = [
      report(1, 'inc-t', 'low', green),
      at(2, 'task.created', { taskId: 't-g', incidentId: 'inc-t', title: 'Patch', priority: 'normal' }, green),
      at(3, 'task.blocked', { taskId: 't-g', reason: 'no window agreed' }, red),
      at(4, 'incident.escalated', { incidentId: 'inc-t', severity: 'critical', reason: 'spreading' }, red),
    ]
    for (const event of before) event.recordedAt = T(5)
    const window = [at(15, 'incident.acknowledged', { incidentId: 'inc-t' }, green)]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.tasks.open).toMatchObject([{ taskId: 't-g', status: 'blocked', tlp: 'RED' }])
    expect(brief.acknowledgements).toMatchObject([{ incidentId: 'inc-t', severity: 'critical', tlp: 'RED' }])
    expect(brief.marking.tlp).toBe('RED')

    // a private RED bookmark alone: nothing happened on the floor, and the brief stays shareable
    seq = 0
    const noted = [
      at(20, 'bookmark.saved', { bookmarkId: 'b-1', title: 'Look later', clock: 'recorded', at: T(20) }, red),
    ]
    for (const event of noted) event.recordedAt = event.occurredAt
    const quiet = handoverBrief(initialState, noted, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(quiet.counts.events).toBe(0)
    expect(quiet.marking).toEqual({ tlp: 'CLEAR' })
  })

  it('[M1] a task row names its incident by its current title: that title’s marking counts in the row and the brief', () => {
    seq = 0
    const green = { marking: { tlp: 'GREEN' } }
    const strict = { marking: { tlp: 'AMBER+STRICT' } }
    const reported = (minute: number, title: string, options: object) =>
      at(
        minute,
        'incident.reported',
        { incidentId: 'inc-h1', title, severity: 'high', category: 'phishing', affectedNetworks: [] },
        options,
      )
    const before = [
      reported(1, 'Phishing wave', green),
      at(
        2,
        'task.created',
        { taskId: 't-h1', incidentId: 'inc-h1', title: 'Block the sender', priority: 'high' },
        green,
      ),
      at(3, 'incident.status_changed', { incidentId: 'inc-h1', status: 'closed' }, green),
      // a raw re-report, stricter, under a new title: the closed incident is on no list of the brief
      reported(4, 'Spear-phishing of the minister', strict),
      report(5, 'inc-amber', 'low', { marking: { tlp: 'AMBER' } }),
    ]
    for (const event of before) event.recordedAt = T(5)
    const brief = handoverBrief(fold(initialState, before), [], { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.open.map((i) => i.incidentId)).toEqual(['inc-amber'])
    expect(brief.tasks.open).toMatchObject([
      { taskId: 't-h1', incidentTitle: 'Spear-phishing of the minister', tlp: 'AMBER+STRICT' },
    ])
    expect(brief.marking).toEqual({ tlp: 'AMBER+STRICT' })
    const text = handoverMarkdown(brief)
    expect(text.split('\n')[0]).toBe('**TLP:AMBER+STRICT**')
    expect(text).toMatch(
      /- \*\*Block the sender\*\*: Incident: Spear-phishing of the minister; .*; TLP: AMBER\+STRICT; Task id: t-h1/,
    )
  })

  it('[M1] a comment row names its incident and task by title: their markings count in the row and the brief', () => {
    seq = 0
    const green = { marking: { tlp: 'GREEN' } }
    const red = { marking: { tlp: 'RED', recipients: ['kadri'] } }
    const reported = (minute: number, incidentId: string, title: string, options: object, extra = {}) =>
      at(
        minute,
        'incident.reported',
        { incidentId, title, severity: 'high', category: 'x', affectedNetworks: [], ...extra },
        options,
      )
    const before = [
      reported(1, 'inc-c', 'Beacon', green),
      at(2, 'task.created', { taskId: 't-c', incidentId: 'inc-c', title: 'Sweep the hosts', priority: 'high' }, green),
      at(3, 'task.completed', { taskId: 't-c', note: 'swept' }, red),
      at(4, 'incident.status_changed', { incidentId: 'inc-c', status: 'closed' }, green),
      reported(5, 'inc-c', 'Beacon on the minister’s laptop', { marking: { tlp: 'AMBER+STRICT' } }),
    ]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      at(15, 'comment.posted', { commentId: 'c-1', incidentId: 'inc-c', body: 'noted', mentions: [] }, green),
      at(
        16,
        'comment.posted',
        { commentId: 'c-2', incidentId: 'inc-c', taskId: 't-c', body: 'ok', mentions: [] },
        green,
      ),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.comments).toMatchObject([
      { commentId: 'c-1', incidentTitle: 'Beacon on the minister’s laptop', tlp: 'AMBER+STRICT' },
      { commentId: 'c-2', taskTitle: 'Sweep the hosts', tlp: 'RED' },
    ])
    expect(brief.marking.tlp).toBe('RED')
    const comments = handoverSections(brief).find((section) => section.key === 'comments')!
    expect(comments.entries.map((entry) => entry.fields.find((f) => f.label === 'TLP')?.value)).toEqual([
      'AMBER+STRICT',
      'RED',
    ])

    // [R15] a marking change that widens the report keeps the picture's title, from a RED report:
    // the incident's `marking` is GREEN, what the comment row names by title is not
    seq = 0
    const widened = [
      reported(1, 'inc-r', 'Public name', green),
      at(2, 'incident.status_changed', { incidentId: 'inc-r', status: 'closed' }, green),
      reported(3, 'inc-r', 'Secret name', red),
      // its author's picture holds the first report and the status: it never saw the RED one
      reported(4, 'inc-r', 'Public name', green, {
        restated: {
          status: 'closed',
          setAt: { title: 1, severity: 1, category: 1, summary: 1, networks: 1, attackSource: 1, status: 2 },
        },
      }),
    ]
    for (const event of widened) event.recordedAt = T(5)
    const picture = fold(initialState, widened)
    expect(picture.incidents.get('inc-r')).toMatchObject({ title: 'Secret name', marking: { tlp: 'GREEN' } })
    const note = [at(15, 'comment.posted', { commentId: 'c-3', incidentId: 'inc-r', body: 'x', mentions: [] }, green)]
    for (const event of note) event.recordedAt = event.occurredAt
    const restated = handoverBrief(picture, note, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(restated.comments).toMatchObject([{ incidentTitle: 'Secret name', tlp: 'RED' }])
    expect(restated.marking.tlp).toBe('RED')
  })

  it('[R15] an incident a marking change closes in this picture (closed by an event it was never sent) is listed as closed; one whose own status is newer is not', () => {
    seq = 0
    const green = { marking: { tlp: 'GREEN' } }
    const amber = { marking: { tlp: 'AMBER' } }
    const reported = (minute: number, incidentId: string, options: object, extra = {}) =>
      at(
        minute,
        'incident.reported',
        { incidentId, title: `Wiper ${incidentId}`, severity: 'high', category: 'x', affectedNetworks: [], ...extra },
        options,
      )
    const setAt = (status: number) => ({
      title: 1,
      severity: 1,
      category: 1,
      summary: 1,
      networks: 1,
      attackSource: 1,
      status,
    })
    const before = [reported(1, 'inc-m', green), reported(2, 'inc-n', green)]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      // cert-ee closes both under AMBER (its own only): cert-lv is never sent it
      at(11, 'incident.status_changed', { incidentId: 'inc-m', status: 'closed' }, amber), // seq 3
      at(12, 'incident.status_changed', { incidentId: 'inc-n', status: 'closed' }, amber), // seq 4
      // cert-lv reopens inc-n itself, later than cert-ee's close
      at(13, 'incident.status_changed', { incidentId: 'inc-n', status: 'triaged' }, green), // seq 5
      // the marking changes restate the status as cert-ee's picture holds it
      reported(14, 'inc-m', green, { restated: { status: 'closed', setAt: setAt(3) } }), // seq 6
      reported(15, 'inc-n', green, { restated: { status: 'closed', setAt: setAt(4) } }), // seq 7
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: janis, since: SINCE, until: UNTIL })
    expect(brief.incidents.closed.map((item) => item.incidentId)).toEqual(['inc-m'])
    expect(brief.incidents.closed[0]).toMatchObject({
      status: 'closed',
      at: T(14),
      reason: 'closed, as a marking change restated it',
    })
    expect(brief.incidents.updated.map((item) => item.incidentId)).toEqual(['inc-n'])

    // a close the picture saw itself stands when the incident is re-marked after it
    seq = 0
    const seen = [
      at(11, 'incident.status_changed', { incidentId: 'inc-m', status: 'closed', reason: 'hosts rebuilt' }, green),
      reported(14, 'inc-m', green, { restated: { status: 'closed', setAt: setAt(3) } }),
    ]
    seq = 2
    for (const event of seen) {
      event.seq = ++seq
      event.recordedAt = event.occurredAt
    }
    const kept = handoverBrief(fold(initialState, before), seen, { viewer: janis, since: SINCE, until: UNTIL })
    expect(kept.incidents.closed).toMatchObject([{ incidentId: 'inc-m', at: T(11), reason: 'hosts rebuilt' }])
  })

  it('[M1] an advisory row names its incident by title: that title’s marking counts in the row and the brief', () => {
    seq = 0
    const green = { marking: { tlp: 'GREEN' } }
    const reported = (minute: number, incidentId: string, title: string, options: object) =>
      at(
        minute,
        'incident.reported',
        { incidentId, title, severity: 'high', category: 'x', affectedNetworks: [] },
        options,
      )
    const before = [
      reported(1, 'inc-a', 'Scan', green),
      reported(2, 'inc-a', 'Scan of the ministry', { marking: { tlp: 'AMBER' } }),
      reported(3, 'inc-z', 'Old', green),
      at(4, 'incident.status_changed', { incidentId: 'inc-z', status: 'closed' }, green),
      reported(5, 'inc-z', 'Old and secret', { marking: { tlp: 'AMBER+STRICT' } }),
    ]
    for (const event of before) event.recordedAt = T(5)
    const window = [
      at(15, 'advisory.published', { advisoryId: 'adv-a', title: 'Patch', body: 'x', incidentId: 'inc-a' }, green),
      at(16, 'advisory.published', { advisoryId: 'adv-z', title: 'Rotate', body: 'y', incidentId: 'inc-z' }, green),
    ]
    for (const event of window) event.recordedAt = event.occurredAt
    const brief = handoverBrief(fold(initialState, before), window, { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.advisories).toMatchObject([
      { advisoryId: 'adv-a', incidentTitle: 'Scan of the ministry', tlp: 'AMBER' },
      { advisoryId: 'adv-z', incidentTitle: 'Old and secret', tlp: 'AMBER+STRICT' },
    ])
    // the open incident is listed, the closed one is not: its title counts through the advisory
    expect(brief.marking.tlp).toBe('AMBER+STRICT')
    const advisories = handoverSections(brief).find((section) => section.key === 'advisories')!
    expect(
      advisories.entries.map((entry) => entry.fields.filter((f) => f.label === 'Incident' || f.label === 'TLP')),
    ).toEqual([
      [
        { label: 'Incident', value: 'Scan of the ministry' },
        { label: 'TLP', value: 'AMBER' },
      ],
      [
        { label: 'Incident', value: 'Old and secret' },
        { label: 'TLP', value: 'AMBER+STRICT' },
      ],
    ])
  })

  it('[M1] an incident row names who its tasks are assigned to: their assignments’ markings count in the row', () => {
    seq = 0
    const green = { marking: { tlp: 'GREEN' } }
    const before = [
      report(1, 'inc-t', 'high', green),
      at(
        2,
        'task.created',
        {
          taskId: 't-1',
          incidentId: 'inc-t',
          title: 'Patch',
          priority: 'high',
          assignee: { kind: 'user', userId: 'kadri' },
        },
        green,
      ),
      at(
        3,
        'task.assigned',
        { taskId: 't-1', assignee: { kind: 'user', userId: 'mari' } },
        { marking: { tlp: 'RED', recipients: ['kadri'] } },
      ),
    ]
    for (const event of before) event.recordedAt = T(5)
    const brief = handoverBrief(fold(initialState, before), [], { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.incidents.open).toMatchObject([
      { incidentId: 'inc-t', assignees: [{ kind: 'user', userId: 'mari' }], tlp: 'RED' },
    ])
    expect(brief.marking.tlp).toBe('RED')
  })

  it('[M1] an empty brief is CLEAR', () => {
    const brief = handoverBrief(initialState, [], { viewer: kadri, since: SINCE, until: UNTIL })
    expect(brief.marking).toEqual({ tlp: 'CLEAR' })
  })
})

describe('document marking', () => {
  it('[M1] a document is marked with the strictest TLP and PAP of its contents', () => {
    expect(documentMarking([])).toEqual({ tlp: 'CLEAR' })
    expect(
      documentMarking([{ tlp: 'GREEN' }, { tlp: 'AMBER', releasableTo: ['LV'] }, { tlp: 'CLEAR', pap: 'GREEN' }]),
    ).toEqual({
      tlp: 'AMBER',
      pap: 'GREEN',
    })
    expect(documentMarking([{ tlp: 'AMBER+STRICT' }, { tlp: 'RED', recipients: ['kadri'] }])).toEqual({ tlp: 'RED' })
  })

  it('[M2] the banner names TLP and PAP, and says so for RED', () => {
    expect(markingBanner({ tlp: 'AMBER' })).toBe('TLP:AMBER')
    expect(markingBanner({ tlp: 'GREEN', pap: 'AMBER' })).toBe('TLP:GREEN · PAP:AMBER')
    expect(markingBanner({ tlp: 'RED' })).toBe('TLP:RED: named recipients only, do not share')
  })
})
