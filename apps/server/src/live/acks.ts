/**
 * A socket message's body and acknowledgement, whatever the client sent. Socket.IO puts the
 * acknowledgement last, so a message sent without a body, or with extra arguments before the
 * acknowledgement, still gets its answer (a validation error): the client never waits forever.
 * More than one argument besides the acknowledgement is handed on as an array, which no message
 * schema accepts.
 */
export function messageArgs<Ack>(args: readonly unknown[]): { body: unknown; reply: (answer: Ack) => void } {
  const last = args.at(-1)
  const ack = typeof last === 'function' ? (last as (answer: Ack) => void) : undefined
  const rest = ack === undefined ? args : args.slice(0, -1)
  const body = rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : [...rest]
  return { body, reply: ack ?? (() => {}) }
}
