/**
 * A picture as `GET /api/v1/state` sends it: the JSON text of core's `stateToJson`, made once per
 * picture (a fold makes a new State object; both caches drop with it), so viewers who share a
 * projection, every request between two folds and a snapshot saved of it share one text; and that
 * text gzipped, made once per picture on zlib's thread pool, for large pictures.
 */
import { gzip } from 'node:zlib'
import { type State, stateToJson } from '@watchfloor/core'

/** Pictures whose text is at least this long are sent gzipped to a client that accepts it. */
export const GZIP_FROM_CHARS = 256 * 1024

const texts = new WeakMap<State, string>()
const gzips = new WeakMap<State, Buffer>()
const zipping = new WeakSet<State>()

export function stateText(state: State): string {
  let text = texts.get(state)
  if (text === undefined) {
    text = JSON.stringify(stateToJson(state))
    texts.set(state, text)
  }
  return text
}

/** `text` is `stateText(state)` already: a snapshot's body, parsed into `state` and not folded since. */
export function rememberText(state: State, text: string): void {
  texts.set(state, text)
}

/**
 * The gzip of a large picture's text when it is made; otherwise undefined, and it is being made
 * in the background (zlib's thread pool, never the event loop) for the next request.
 */
export function stateGzip(state: State): Buffer | undefined {
  const made = gzips.get(state)
  if (made !== undefined) return made
  const text = stateText(state)
  if (text.length < GZIP_FROM_CHARS || zipping.has(state)) return undefined
  zipping.add(state)
  gzip(text, { level: 1 }, (error, zipped) => {
    zipping.delete(state)
    if (!error) gzips.set(state, zipped)
  })
  return undefined
}
