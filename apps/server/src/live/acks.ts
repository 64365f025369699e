import type { ClientToServerEvents, ErrorBody } from '@watchfloor/protocol'

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

/** The messages a client may send: every one of `ClientToServerEvents` (the compiler says when one is missing). */
const CLIENT_MESSAGES: Readonly<Record<keyof ClientToServerEvents, true>> = {
  subscribe: true,
  command: true,
  viewing: true,
}

/** Whether `name` is a message a client may send (an own key: `constructor` or `toString` is not one). */
export function isClientMessage(name: unknown): boolean {
  return typeof name === 'string' && Object.hasOwn(CLIENT_MESSAGES, name)
}

/**
 * A socket middleware (`socket.use`): a message no handler listens for (`nope`, `constructor`) goes
 * no further, and is answered `{ ok: false, error: { code: 'validation', message } }` when it asked
 * for an acknowledgement, as every known message is answered, so the client never waits forever.
 */
export function refuseUnknownMessages(packet: readonly unknown[], next: (error?: Error) => void): void {
  const [name] = packet
  if (isClientMessage(name)) {
    next()
    return
  }
  const ack = packet.length > 1 ? packet.at(-1) : undefined
  const shown = typeof name === 'string' ? name.slice(0, 100) : String(name)
  const error: ErrorBody = { code: 'validation', message: `unknown message ${shown}` }
  if (typeof ack === 'function') ack({ ok: false, error })
}
