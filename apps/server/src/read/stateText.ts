/**
 * A picture as `GET /api/v1/state` sends it: the JSON text of core's `stateToJson`, made once per
 * picture (a fold makes a new State object; the text drops with it), so viewers who share a
 * projection, every request between two folds and a snapshot saved of it share one text. The
 * same for the live picture (`?scope=live`) of the default cut: once per picture.
 */
import { defaultLiveSince, livePicture, liveStateToJson, type State, stateToJson } from '@watchfloor/core'

const texts = new WeakMap<State, string>()
const liveTexts = new WeakMap<State, string>()
const otherLiveTexts = new WeakMap<State, Map<string, string>>()

export function stateText(state: State): string {
  let text = texts.get(state)
  if (text === undefined) {
    text = JSON.stringify(stateToJson(state))
    texts.set(state, text)
  }
  return text
}

/**
 * `stateText(state)`, the same text, made in slices of about `sliceMs` with a turn of the event
 * loop between them: a whole picture at ten million events is about 20 MB of JSON (0.3 s in one
 * go), and a snapshot of it is written every so often, so the loop stays free for sockets and
 * requests meanwhile. A picture never changes (a fold makes a new one), so slicing is safe.
 */
export async function stateTextInSlices(state: State, sliceMs = 10): Promise<string> {
  const cached = texts.get(state)
  if (cached !== undefined) return cached
  const json = stateToJson(state) as unknown as Record<string, unknown>
  const fields: string[] = []
  let sliceStart = performance.now()
  for (const [key, value] of Object.entries(json)) {
    if (value === undefined) continue // as JSON.stringify leaves it out
    if (!Array.isArray(value)) {
      fields.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`)
      continue
    }
    const items: string[] = new Array(value.length)
    for (let i = 0; i < value.length; i++) {
      // an element JSON cannot hold is null in an array, as JSON.stringify writes it
      items[i] = JSON.stringify(value[i]) ?? 'null'
      if ((i & 255) === 255 && performance.now() - sliceStart >= sliceMs) {
        await new Promise((resolve) => setImmediate(resolve))
        sliceStart = performance.now()
      }
    }
    fields.push(`${JSON.stringify(key)}:[${items.join(',')}]`)
  }
  // made meanwhile by a request that could not wait: that one
  const made = texts.get(state)
  if (made !== undefined) return made
  const text = `{${fields.join(',')}}`
  texts.set(state, text)
  return text
}

/** `text` is `stateText(state)` already: a snapshot's body, parsed into `state` and not folded since. */
export function rememberText(state: State, text: string): void {
  texts.set(state, text)
}

/**
 * The live picture of `state` (core's `livePicture`) as JSON text: closed incidents and advisories
 * kept from `sinceMs` (default: `LIVE_DAYS` before its newest event), and the incidents, tasks or
 * advisories `include` names. The default cut is made once per picture.
 */
export function liveStateText(state: State, sinceMs?: number, include: readonly string[] = []): string {
  const usual = sinceMs === undefined && include.length === 0
  if (usual) {
    const text = liveTexts.get(state)
    if (text !== undefined) return text
  }
  // other cuts: the few asked of one picture are kept with it (consoles that saw the same event
  // about an incident left out ask for the same one at once)
  const key = `${sinceMs ?? ''}|${[...new Set(include)].sort().join('\u0000')}`
  let others = otherLiveTexts.get(state)
  const kept = others?.get(key)
  if (kept !== undefined) return kept
  const live = livePicture(state, { sinceMs: sinceMs ?? defaultLiveSince(state, Date.now()), include })
  const text = JSON.stringify(liveStateToJson(live.state, live.omitted))
  if (usual) {
    liveTexts.set(state, text)
    return text
  }
  if (others === undefined) {
    others = new Map()
    otherLiveTexts.set(state, others)
  }
  if (others.size >= OTHER_CUTS_KEPT) others.delete(others.keys().next().value!)
  others.set(key, text)
  return text
}

/** Cuts other than the usual kept per picture, at most (the oldest made goes first). */
const OTHER_CUTS_KEPT = 8

/** Whether the usual live cut of `state` is made already (the audiences prepared at start make theirs). */
export function liveTextReady(state: State): boolean {
  return liveTexts.has(state)
}
