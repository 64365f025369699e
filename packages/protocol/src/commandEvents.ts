/**
 * The ids a command with a `commandId` gives what it makes (its events, and the comment, task or
 * link they add): derived from the action and who sent it, never random, so that the same action
 * retried gets the same ids and the server answers it as the first time (docs/api.md, "commandId").
 * One home for the rule: the server draws them, and a console recognises its own action in the live
 * stream by them (an answer lost while the action was applied).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'

/** How many derived ids a command may take: a command draws at most two (a payload id and an event id). */
export const COMMAND_IDS_DRAWN = 4

/**
 * The `index`-th id of the command `commandId` of a caller (its user and organisation): a UUID
 * (version 8, RFC 9562) made of the first 16 bytes of a SHA-256 of the three. The same action
 * retried gets the same ids; another caller's command with the same `commandId` gets others.
 */
export function commandEventId(
  commandId: string,
  caller: { userId: string; organisation: string },
  index: number,
): string {
  const input = JSON.stringify([
    'watchfloor.command',
    commandId.toLowerCase(),
    caller.organisation,
    caller.userId,
    index,
  ])
  const bytes = sha256(utf8ToBytes(input)).subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The first `COMMAND_IDS_DRAWN` ids of a caller's command: those its events and what they add take. */
export function commandEventIds(commandId: string, caller: { userId: string; organisation: string }): string[] {
  return Array.from({ length: COMMAND_IDS_DRAWN }, (_, i) => commandEventId(commandId, caller, i))
}
