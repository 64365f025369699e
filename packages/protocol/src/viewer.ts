import { z } from 'zod'

export const ROLES = ['sensor', 'watch_officer', 'coordinator', 'analyst', 'liaison', 'admin'] as const
export const Role = z.enum(ROLES)
export type Role = z.infer<typeof Role>

/** Who is looking: every visibility decision is made for a viewer. */
export interface Viewer {
  organisation: string
  nation: string
  roles: readonly Role[]
  userId: string
}
