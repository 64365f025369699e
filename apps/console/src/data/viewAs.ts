/**
 * "View as" [V11, A7]: a coordinator or an admin sees the picture as an organisation or a community
 * receives it from what they themselves may see (never RED), read-only. The server does the
 * filtering: every REST read carries `X-Watchfloor-View-As: organisation:<id>` (data/api.ts), the
 * socket connects with `auth: { viewAs }` (data/connection.ts), and `GET /api/v1/session` with the
 * header answers `viewingAs` (data/session.ts). This module is the pure part: the audience, its
 * wire form, and how a link names it (`?viewAs=organisation:cert-lv`).
 */

export const AUDIENCE_KINDS = ['organisation', 'community'] as const
export type AudienceKind = (typeof AUDIENCE_KINDS)[number]

/** An audience of the directory to view as. */
export interface ViewAs {
  kind: AudienceKind
  /** The organisation's or the community's directory id. */
  id: string
}

/** The request header of every REST call made while viewing as (docs/api.md). */
export const VIEW_AS_HEADER = 'X-Watchfloor-View-As'

/** The query parameter of a link that views as (`?viewAs=organisation:cert-lv`). */
export const VIEW_AS_PARAM = 'viewAs'

/** A directory id as the server keeps them: lower case, digits, dot, dash, underscore; up to 64. */
const DIRECTORY_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** `organisation:cert-lv` -> the audience; anything else (empty, another kind, a malformed id) is null. */
export function parseViewAs(raw: string | null | undefined): ViewAs | null {
  if (!raw) return null
  const at = raw.indexOf(':')
  if (at < 0) return null
  const kind = raw.slice(0, at).trim()
  const id = raw.slice(at + 1).trim()
  if (!(AUDIENCE_KINDS as readonly string[]).includes(kind) || !DIRECTORY_ID.test(id)) return null
  return { kind: kind as AudienceKind, id }
}

/** The wire form, for the header, the socket's `auth.viewAs` and the link: `organisation:cert-lv`. */
export function viewAsValue(viewAs: ViewAs): string {
  return `${viewAs.kind}:${viewAs.id}`
}

/** The same audience (or both none)? */
export function sameViewAs(a: ViewAs | null | undefined, b: ViewAs | null | undefined): boolean {
  if (!a || !b) return !a && !b
  return a.kind === b.kind && a.id === b.id
}

/**
 * The viewer a session is, as a key: the person, their organisation and the audience viewed as
 * (null: signed out). Equal keys see the same picture; a re-read session of the same viewer keeps it.
 */
export function viewerKey(
  session: { user: string; organisation: string; viewingAs?: ViewAs | undefined } | null | undefined,
): string | null {
  if (!session) return null
  return JSON.stringify([session.user, session.organisation, session.viewingAs ? viewAsValue(session.viewingAs) : null])
}

/** The audience a query string names (`?viewAs=...`), or null. */
export function viewAsFromSearch(search: string): ViewAs | null {
  return parseViewAs(new URLSearchParams(search).get(VIEW_AS_PARAM))
}

/** The headers `extra` plus the view-as header when viewing as (a new object; `extra` is left alone). */
export function withViewAs(extra: Record<string, string>, viewAs: ViewAs | null | undefined): Record<string, string> {
  return viewAs ? { ...extra, [VIEW_AS_HEADER]: viewAsValue(viewAs) } : { ...extra }
}

/**
 * A downloaded file's name while viewing as says so, before its extensions:
 * `watchfloor-events-to-seq-9.stix.json` -> `watchfloor-events-to-seq-9.as-organisation-cert-lv.stix.json`.
 */
export function viewAsFileName(filename: string, viewAs: ViewAs | null | undefined): string {
  if (!viewAs) return filename
  const dot = filename.indexOf('.', 1)
  const tag = `as-${viewAs.kind}-${viewAs.id}`
  return dot < 0 ? `${filename}.${tag}` : `${filename.slice(0, dot)}.${tag}${filename.slice(dot)}`
}
