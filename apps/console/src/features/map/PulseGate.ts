/**
 * Which incidents pulse (see pulses.ts for the drawing): at most a few rings at once, and each
 * incident at most once in a while, however often it is updated. Pure but for its memory of
 * recent pulses.
 */
import type { IncidentState } from '@watchfloor/core'
import { type FeatureMap, type IncidentFeature, SLOT_OFFSETS } from './features.ts'
import type { Pulse } from './pulses.ts'
import { SEVERITY_COLOURS } from './style.ts'

/** Most pulses animating at once (an outbreak can bring dozens in a second). */
export const MAX_PULSES = 40
/** An incident pulses at most this often, however often it is updated. */
export const PULSE_COOLDOWN_MS = 4000

export class PulseGate {
  /** When each incident last pulsed (or was due to, had it been on the map). */
  private readonly last = new Map<string, number>()

  constructor(
    private readonly max = MAX_PULSES,
    private readonly cooldownMs = PULSE_COOLDOWN_MS,
  ) {}

  /**
   * The pulses to start `now` for `incidents` (in order), with `running` pulses already running:
   * none for an incident that pulsed within the cooldown, and no more than `max` running in all.
   * An incident not among `features` (the map's incident features, by id) gets no ring but still
   * counts as pulsed.
   */
  admit(incidents: readonly IncidentState[], features: FeatureMap, now: number, running: number): Pulse[] {
    for (const [id, at] of this.last) if (now - at > this.cooldownMs) this.last.delete(id)
    const pulses: Pulse[] = []
    for (const incident of incidents) {
      if (running + pulses.length >= this.max) break
      if (this.last.has(incident.incidentId)) continue
      this.last.set(incident.incidentId, now)
      const feature = features.get(incident.incidentId) as IncidentFeature | undefined
      if (!feature) continue
      const [lng = 0, lat = 0] = feature.geometry.coordinates
      const [dx = 0, dy = 0] = SLOT_OFFSETS[feature.properties.slot] ?? []
      pulses.push({ lngLat: [lng, lat], offset: [dx, dy], colour: SEVERITY_COLOURS[incident.severity], start: now })
    }
    return pulses
  }
}
