import { fold, initialState, makeEvent, type State } from '@watchfloor/core'
import type { Role, StoredEvent } from '@watchfloor/protocol'
import type { Session } from '../../data/store.ts'

export const person = (roles: Role[], user = 'kadri', organisation = 'cert-ee'): Session => ({
  user,
  organisation,
  nation: 'EE',
  roles,
  kind: 'session',
})

export const reportEvent = (seq: number, incidentId = 'inc-1') =>
  makeEvent(
    seq,
    'incident.reported',
    {
      incidentId,
      title: `Incident ${incidentId}`,
      severity: 'high',
      category: 'malware',
      affectedNetworks: ['ee-gov'],
    },
    { actor: 'sensor-ee' },
  )

export function picture(events: StoredEvent[]): State {
  return fold(initialState, events)
}
