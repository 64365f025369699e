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
  /**
   * "View as" [V11]: the viewer sees only what this audience may see as well (an organisation, or
   * a community as such): the picture that audience receives from what the viewer may see.
   */
  viewingAs?: ViewingAs
}

/** An audience to view as [V11]: an organisation (with its nation and communities), or a community. */
export interface ViewingAs {
  kind: 'organisation' | 'community'
  /** The organisation's or the community's id. */
  id: string
  /** An organisation's nation. */
  nation?: string
  /** An organisation's communities, sorted; a community: itself. */
  communities?: readonly string[]
}
