/**
 * The `commandId` of a form's commands: one per user action, so a retry is applied once.
 *
 * Submitting a form is an action and gets a new `commandId`. Sending the same command again, while
 * the first has no answer yet or after it failed (the server could not be reached: the answer may
 * be lost while the command was applied), is the same action: it goes out with the same
 * `commandId`, and the server answers it as the first time instead of appending a second comment or
 * task. So is **Retry on version N** (only `expectedVersion` differs). Anything else typed or chosen
 * is another command, and a new action; so is the same input again after it succeeded, or once the
 * live stream brought what the action made (its events carry ids derived from its `commandId`,
 * protocol's `commandEventIds`: an answer lost while the action was applied; formDrafts.ts).
 */
import { type Command, canonicalJson, commandEventIds } from '@watchfloor/protocol'
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

/**
 * A form's last action: what makes it the same (`actionKey`), its `commandId`, whether it succeeded,
 * and the ids what it makes will carry (its events, the comment or task it adds), when its sender is known.
 */
export interface LastAction {
  readonly key: string
  readonly commandId: string
  readonly done: boolean
  readonly eventIds?: readonly string[] | undefined
}

/** Who sends: the ids of an action's events are derived from its `commandId` and them. */
export interface Sender {
  userId: string
  organisation: string
}

/**
 * Where a form's last action is kept. By default with the form (`ownSlot`); a form of an incident
 * keeps it with its draft (formDrafts.ts `actionSlot`), so that a form unmounted and shown again (the
 * picture opened again) sends the same action under the same `commandId`.
 */
export interface ActionSlot {
  read(): LastAction | null
  /** Keep `last`; `sending`: it goes out now (again), with the form as it is. */
  write(last: LastAction, sending?: boolean): void
}

/** A slot of its own, that lives as long as the object that holds it. */
export function ownSlot(): ActionSlot {
  let last: LastAction | null = null
  return {
    read: () => last,
    write: (next) => {
      last = next
    },
  }
}

/** One form's actions: the last command sent, its `commandId`, and whether it succeeded. */
export class CommandIds {
  constructor(
    private readonly newId: () => string = newCommandId,
    private readonly slot: ActionSlot = ownSlot(),
    private readonly sender?: Sender | undefined,
  ) {}

  /** The command as it goes out: with the `commandId` of its action (one it already has is kept). */
  stamp(command: Command): Command {
    let last = this.slot.read()
    if (command.commandId !== undefined) {
      // sent again as it was (Retry on version N): the same action, going out again now
      if (last !== null && last.commandId === command.commandId) this.slot.write(last, true)
      return command
    }
    const key = actionKey(command)
    if (last === null || last.key !== key || last.done) {
      const commandId = this.newId()
      const eventIds = this.sender === undefined ? undefined : commandEventIds(commandId, this.sender)
      last = { key, commandId, done: false, eventIds }
    }
    this.slot.write(last, true)
    return { ...command, commandId: last.commandId }
  }

  /** The answer of a command sent: once one succeeds, the same input again is a new action. */
  answered(sent: Command, result: CommandResult): void {
    const last = this.slot.read()
    if (result.ok && last !== null && last.commandId === sent.commandId) this.slot.write({ ...last, done: true })
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
