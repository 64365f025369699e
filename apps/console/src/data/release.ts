/** The product's version and commit, as the build wrote them (vite.config.ts `define`, scripts/release.mjs). */
export interface Release {
  version: string
  commit: string
}

/** Set by Vite's `define` at build (and dev) time; absent when a test imports this module without Vite's config. */
declare const __WATCHFLOOR_RELEASE__: Release | undefined

/** This console's version and commit (the About panel); "unknown" when it was not built by Vite. */
export const CONSOLE_RELEASE: Release =
  typeof __WATCHFLOOR_RELEASE__ !== 'undefined' ? __WATCHFLOOR_RELEASE__ : { version: 'unknown', commit: 'unknown' }
