/** The product's version (root package.json) and commit; see release.mjs. */
export interface Release {
  version: string
  commit: string
}
/** The checkout's root. */
export const ROOT: string
export function readRelease(options?: { root?: string; env?: Record<string, string | undefined> }): Release
