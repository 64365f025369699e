import { type Release, readRelease } from '../../../../scripts/release.mjs'

export type { Release }

/** Set by the server's build (apps/server/build.mjs, esbuild `define`); absent when the source runs (tsx, tests). */
declare const __WATCHFLOOR_RELEASE__: Release | undefined

/**
 * This server's product version and commit (`/healthz`, the OpenAPI document, the start line): the
 * values the build injected, or, running from source, the same lookup now (scripts/release.mjs:
 * the root package.json's version; `git rev-parse --short HEAD`, else WATCHFLOOR_COMMIT, else "unknown").
 */
export const RELEASE: Release = typeof __WATCHFLOOR_RELEASE__ !== 'undefined' ? __WATCHFLOOR_RELEASE__ : readRelease()
