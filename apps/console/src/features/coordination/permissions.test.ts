import { describe, expect, it } from 'vitest'
import { person, picture, reportEvent } from './fixtures.test-helpers.ts'
import { actorOf, can } from './permissions.ts'

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
