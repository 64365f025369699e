import { z } from 'zod'
import { IncidentStatus, Severity, Tlp } from './events.ts'

/** The panels a wall can show, in the order they are laid out. */
export const WALL_PANELS = ['map', 'ticker', 'counters', 'board', 'spotlight'] as const
export const WallPanel = z.enum(WALL_PANELS)
export type WallPanel = z.infer<typeof WallPanel>

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63 characters')

/**
 * A named wall layout (`WATCHFLOOR_WALL_PRESETS`): which panels, how the spotlight rotates,
 * the region the map frames and the filters. Every field but the name is optional; the
 * console fills in its defaults, then the preset, then (unless a display token locks the
 * preset) the link's query parameters.
 */
export const WallPreset = z
  .object({
    name,
    title: z.string().trim().min(1).max(120).optional(),
    panels: z.array(WallPanel).min(1).optional(),
    /** Seconds each spotlight incident stays before the next. */
    rotateSeconds: z.number().int().min(3).max(3600).optional(),
    /** Seconds a new critical incident pins the spotlight (until it is acknowledged). */
    pinSeconds: z.number().int().min(10).max(86_400).optional(),
    /** Hours of history on the ticker timeline. */
    tickerHours: z.number().min(0.25).max(72).optional(),
    region: z
      .object({
        lng: z.number().min(-180).max(180),
        lat: z.number().min(-85).max(85),
        zoom: z.number().min(0).max(12),
      })
      .strict()
      .optional(),
    filters: z
      .object({
        severities: z.array(Severity).optional(),
        statuses: z.array(IncidentStatus).optional(),
        categories: z.array(z.string().min(1)).optional(),
        organisations: z.array(z.string().min(1)).optional(),
        tlps: z.array(Tlp).optional(),
        text: z.string().max(200).optional(),
      })
      .strict()
      .optional(),
    /** A second clock, as an IANA time zone (the first is always UTC). */
    timeZone: z.string().min(1).max(64).refine(isTimeZone, { message: 'not a known IANA time zone' }).optional(),
    /** An incident not updated for this long is drawn as stale. */
    staleMinutes: z.number().min(1).max(10_080).optional(),
    /** A network that has not reported for this long is marked silent. */
    silentMinutes: z.number().min(1).max(10_080).optional(),
    /** No heartbeat for this long and the wall says the connection is lost. */
    heartbeatSeconds: z.number().min(2).max(600).optional(),
    /** Hours of events and closed incidents kept in memory (the wall keeps at least the ticker's hours). */
    retentionHours: z.number().min(1).max(168).optional(),
  })
  .strict()
export type WallPreset = z.infer<typeof WallPreset>

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
