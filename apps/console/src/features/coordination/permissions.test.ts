import { describe, expect, it } from 'vitest'
import { mayEditDirectory } from '../sharing/directory.ts'
import { person, picture, reportEvent } from './fixtures.test-helpers.ts'
import { actorOf, can, mayViewAs, statusChoices } from './permissions.ts'

// The rules themselves are core's (policy.test.ts); here, only how the console asks for them.
const inc = picture([reportEvent(1, 'inc-1')]).incidents.get('inc-1')!

describe('can: the console asks core’s policy for the signed-in session', () => {
  it('[A1] nothing for nobody or for a read-only display token', () => {
    expect(can(null, 'comment.post', inc)).toBe(false)
    expect(can({ ...person(['coordinator']), kind: 'display' }, 'comment.post', inc)).toBe(false)
    expect(actorOf({ ...person(['admin']), kind: 'display' }).readOnly).toBe(true)
  })

  it('[C2] the session’s user, organisation and roles are the actor’s', () => {
    expect(actorOf(person(['analyst'], 'mari', 'cert-lv'))).toEqual({
      roles: ['analyst'],
      userId: 'mari',
      organisation: 'cert-lv',
      readOnly: false,
    })
    expect(can(person(['watch_officer']), 'incident.acknowledge', inc)).toBe(true)
    expect(can(person(['analyst']), 'incident.acknowledge', inc)).toBe(false)
  })
})

describe('view as [A7, V11]: who may, and a view changes nothing', () => {
  const lv = { kind: 'organisation', id: 'cert-lv' } as const

  it('coordinators and admins may view as; nobody else, and never a display token', () => {
    expect(mayViewAs(person(['coordinator']))).toBe(true)
    expect(mayViewAs(person(['admin']))).toBe(true)
    expect(mayViewAs(person(['analyst', 'coordinator']))).toBe(true)
    for (const role of ['analyst', 'watch_officer', 'liaison', 'sensor'] as const)
      expect(mayViewAs(person([role]))).toBe(false)
    expect(mayViewAs({ ...person(['admin']), kind: 'display' })).toBe(false)
    expect(mayViewAs(null)).toBe(false)
  })

  it('while viewing as, the session is read-only: no command, no directory change; switching stays allowed', () => {
    const viewing = { ...person(['admin', 'coordinator', 'watch_officer']), viewingAs: lv }
    expect(actorOf(viewing).readOnly).toBe(true)
    for (const action of [
      'incident.acknowledge',
      'incident.escalate',
      'incident.set_status',
      'incident.link',
      'network.set_state',
      'task.create',
      'comment.post',
      'bookmark.save',
    ] as const) {
      expect(can(viewing, action, inc)).toBe(false)
      expect(can({ ...viewing, viewingAs: undefined }, action, inc)).toBe(true)
    }
    expect(mayEditDirectory(viewing)).toBe(false)
    expect(mayEditDirectory(person(['admin']))).toBe(true)
    expect(mayViewAs(viewing)).toBe(true)
  })
})

describe('statusChoices', () => {
  it('offers the next step of the course first, then going back; never the status it has', () => {
    expect(statusChoices('new')).toEqual(['triaged', 'contained', 'eradicated', 'recovered', 'closed'])
    expect(statusChoices('contained')).toEqual(['eradicated', 'recovered', 'closed', 'new', 'triaged'])
    expect(statusChoices('closed')).toEqual(['new', 'triaged', 'contained', 'eradicated', 'recovered'])
  })
})
