/**
 * The console's one REST client: every call goes out with the caller's credentials
 * (`apiHeaders()`: a bearer token, or the session cookie) and, while viewing as another audience,
 * `X-Watchfloor-View-As` naming it (the session in the store says which, data/viewAs.ts), so every
 * read holds what that audience receives; and every refusal is read the same way, as the error
 * family's body the server sent (`{ error: { code, message, details } }`, docs/api.md). The code
 * is the server's, never guessed from the HTTP status.
 */
import { type ErrorBody, errorBodyOf } from '@watchfloor/protocol'
import { apiHeaders } from './session.ts'
import { watchfloor } from './store.ts'
import { type ViewAs, withViewAs } from './viewAs.ts'

export type Fetch = typeof fetch

/** A refused or failed call: the HTTP status (0: no answer) and the error body. */
export interface Failure {
  status: number
  error: ErrorBody
  /** The reply's other fields (a command conflict's `current`). */
  current?: unknown
}

/** A call that did not succeed, as an exception: `message` reads "403: a display token is read-only". */
export class ApiError extends Error {
  constructor(readonly failure: Failure) {
    super(describeFailure(failure))
    this.name = 'ApiError'
  }
}

/**
 * The failure a reply body says. A body that is not the error family's (a proxy's page, an
 * empty body) is `internal` naming the status; `status` 0 means the server could not be reached.
 */
export function failureOf(status: number, body: unknown): Failure {
  const error = errorBodyOf(body)
  if (error === undefined) return { status, error: { code: 'internal', message: `the server answered ${status}` } }
  const current = (body as { current?: unknown }).current
  return current === undefined ? { status, error } : { status, error, current }
}

/** The failure of a call that got no answer at all. */
export function unreachable(error: unknown): Failure {
  return { status: 0, error: { code: 'unavailable', message: `cannot reach the server (${String(error)})` } }
}

/** Read a non-2xx response's body as a failure. */
export async function readFailure(response: Response): Promise<Failure> {
  return failureOf(response.status, await response.json().catch(() => undefined))
}

/** "403: a display token is read-only"; "cannot reach the server (...)" when there was no answer. */
export function describeFailure({ status, error }: Failure): string {
  return status === 0 ? error.message : `${status}: ${error.message}`
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Sent as JSON. */
  json?: unknown
  accept?: string
  signal?: AbortSignal
  fetchFn?: Fetch
  /** The audience viewed as; absent: the store's session's (`viewingAs`), null: none. */
  viewAs?: ViewAs | null
}

/** The audience the signed-in console views as now (the session the server answered), or null. */
export function currentViewAs(): ViewAs | null {
  const viewingAs = watchfloor.getState().session?.viewingAs
  return viewingAs ? { kind: viewingAs.kind, id: viewingAs.id } : null
}

/** Methods that change nothing: every other one is sent with `Content-Type: application/json`. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * A call's headers: `Accept`, `Content-Type` when it sends JSON, the view-as header when viewing
 * as, and the credentials (`apiHeaders`).
 */
export function requestHeaders(
  accept: string,
  sendsJson: boolean,
  viewAs: ViewAs | null,
  credentials: (extra: Record<string, string>) => Record<string, string> = apiHeaders,
): Record<string, string> {
  const base: Record<string, string> = sendsJson
    ? { Accept: accept, 'Content-Type': 'application/json' }
    : { Accept: accept }
  return credentials(withViewAs(base, viewAs))
}

/**
 * One REST call with the caller's credentials (and the audience viewed as, if any). Resolves with
 * the response when it is 2xx; otherwise throws an `ApiError` holding the server's error body (or
 * `unavailable` with no answer). While viewing as, anything that changes is refused by the server
 * (403, rule A7): the console does not offer it.
 */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const { method = 'GET', json, accept = 'application/json', signal, fetchFn = fetch } = options
  const viewAs = options.viewAs === undefined ? currentViewAs() : options.viewAs
  let response: Response
  try {
    response = await fetchFn(path, {
      method,
      // a request that changes anything says JSON, with or without a body (a DELETE, a poll): the
      // server refuses a browser session's change without it, which a cross-site form cannot send
      headers: requestHeaders(accept, json !== undefined || !SAFE_METHODS.has(method.toUpperCase()), viewAs),
      credentials: 'same-origin',
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      ...(signal === undefined ? {} : { signal }),
    })
  } catch (error) {
    if (signal?.aborted) throw error
    throw new ApiError(unreachable(error))
  }
  if (!response.ok) throw new ApiError(await readFailure(response))
  return response
}

/** `request`, then the body as JSON. */
export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await (await request(path, options)).json()) as T
}
