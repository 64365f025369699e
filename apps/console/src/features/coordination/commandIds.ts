/**
 * The `commandId` of a form's commands: one per user action, so a retry is applied once.
 *
 * Submitting a form is an action and gets a new `commandId`. Sending the same command again, while
 * the first has no answer yet or after it failed (the server could not be reached: the answer may
 * be lost while the command was applied), is the same action: it goes out with the same
 * `commandId`, and the server answers it as the first time instead of appending a second comment or
 * task. So is **Retry on version N** (only `expectedVersion` differs). Anything else typed or chosen
 * is another command, and a new action; so is the same input again after it succeeded.
 */
import { type Command, canonicalJson } from '@watchfloor/protocol'
import type { CommandResult } from './commands.ts'

/** What makes two commands the same action: everything but `expectedVersion` and `commandId`. */
export function actionKey(command: Command): string {
  const { expectedVersion: _expected, commandId: _commandId, ...rest } = command
  return canonicalJson(rest)
}

/** A new UUID (v4): `crypto.randomUUID` where the page may use it, else from `getRandomValues` (plain http). */
export function newCommandId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** One form's actions: the last command sent, its `commandId`, and whether it succeeded. */
export class CommandIds {
  private last: { key: string; commandId: string; done: boolean } | null = null

  constructor(private readonly newId: () => string = newCommandId) {}

  /** The command as it goes out: with the `commandId` of its action (one it already has is kept). */
  stamp(command: Command): Command {
    if (command.commandId !== undefined) return command
    const key = actionKey(command)
    if (this.last === null || this.last.key !== key || this.last.done)
      this.last = { key, commandId: this.newId(), done: false }
    return { ...command, commandId: this.last.commandId }
  }

  /** The answer of a command sent: once one succeeds, the same input again is a new action. */
  answered(sent: Command, result: CommandResult): void {
    if (result.ok && this.last !== null && this.last.commandId === sent.commandId) this.last.done = true
  }
}

/** Send `command` as an action of `ids`: stamped, sent, its answer noted. */
export async function sendAction(
  ids: CommandIds,
  command: Command,
  send: (command: Command) => Promise<CommandResult>,
): Promise<{ sent: Command; result: CommandResult }> {
  const sent = ids.stamp(command)
  const result = await send(sent)
  ids.answered(sent, result)
  return { sent, result }
}
