import { z } from 'zod'
import type { Tlp } from './events.ts'

export const ROLES = ['sensor', 'watch_officer', 'coordinator', 'analyst', 'liaison', 'admin'] as const
export const Role = z.enum(ROLES)
export type Role = z.infer<typeof Role>

/** Who is looking: every visibility decision is made for a viewer. */
export interface Viewer {
  organisation: string
  nation: string
  roles: readonly Role[]
  userId: string
  /**
   * The highest TLP this viewer may receive (a wall display's ceiling) [V9];
   * absent: no ceiling beyond the other rules.
   */
  tlpCeiling?: Tlp
  /**
   * The communities (named sets of organisations in the directory) its organisation belongs to,
   * sorted: `releasableTo` naming one of them reaches it [V10]. Absent: none.
   */
  communities?: readonly string[]
}
