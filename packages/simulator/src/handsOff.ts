import type { EventInput } from '@watchfloor/protocol'

/** What the simulator needs to know of an event in the log. */
export interface LoggedEvent {
  type: string
  actor?: { user?: string | undefined } | undefined
  payload?: unknown
}

/**
 * Incidents people have taken over. Once anyone but the simulator has acted on an incident
 * (acknowledged, assigned, escalated, commented, updated it: any event about it with an actor of
 * its own), its course is theirs: the simulator's scripted `incident.updated` events for it (status
 * and severity) are held back, so a scripted close never undoes a coordinator's escalation. Its
 * sensors keep reporting observations, as real ones would.
 */
export class HandsOff {
  private readonly taken = new Set<string>()

  constructor(private readonly simulatorUser: string) {}

  /** Read events as the log records them (the simulator's own included). */
  note(events: Iterable<LoggedEvent>): void {
    for (const event of events) {
      const user = event.actor?.user
      if (!user || user === this.simulatorUser) continue
      const incidentId = incidentOf(event)
      if (incidentId) this.taken.add(incidentId)
    }
  }

  /** Has a person taken this incident over? */
  isTaken(incidentId: string): boolean {
    return this.taken.has(incidentId)
  }

  /** Is this scripted event one to hold back? */
  holdsBack(event: EventInput): boolean {
    return event.type === 'incident.updated' && this.taken.has(event.payload.incidentId)
  }
}

function incidentOf(event: LoggedEvent): string | undefined {
  const payload = event.payload as { incidentId?: unknown } | undefined
  return typeof payload?.incidentId === 'string' ? payload.incidentId : undefined
}
