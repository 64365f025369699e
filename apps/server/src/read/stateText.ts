/**
 * A picture as `GET /api/v1/state` sends it: the JSON text of core's `stateToJson`, made once per
 * picture (a fold makes a new State object; the text drops with it), so viewers who share a
 * projection, every request between two folds and a snapshot saved of it share one text.
 */
import { type State, stateToJson } from '@watchfloor/core'

const texts = new WeakMap<State, string>()

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
