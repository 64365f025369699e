/**
 * A form's draft of a choice among what the target offers now (escalate to a severity above the
 * current one, set another status), tied to the copy of the target it was started on.
 *
 * The choice a person made is never replaced behind their back: when the live picture no longer
 * offers it (someone escalated to that severity, or set that status, meanwhile), the form says so
 * and sends nothing until they choose again. And the command expects the version the draft was
 * started on, so a change meanwhile is a conflict [C3] the person sees, not a silent overwrite.
 */
import type { Target } from './commands.ts'

export interface Draft<T extends string> {
  /** What the person chose, or what the form showed when they started the draft. */
  choice: T
  /** The target as it stood when the draft was started: its version is the command's `expectedVersion`. */
  basis: Target
}

/** What a form shows and may send. */
export interface DraftView<T extends string> {
  /** The choice shown and sent; undefined: nothing to send (nothing offered, or choose again). */
  value: T | undefined
  /** The draft's choice, no longer offered: "already high, changed meanwhile: choose again". */
  gone: T | undefined
}

/**
 * What a form shows: without a draft, the first choice offered now (nothing chosen yet); with one,
 * its choice while still offered, else nothing, and the choice that went (never another in its place).
 */
export function viewDraft<T extends string>(draft: Draft<T> | null, offered: readonly T[]): DraftView<T> {
  if (draft === null) return { value: offered[0], gone: undefined }
  return offered.includes(draft.choice)
    ? { value: draft.choice, gone: undefined }
    : { value: undefined, gone: draft.choice }
}

/**
 * The draft once the person touched the form (typed a reason, say): unchanged when there is one;
 * else a new one on `basis` (the copy shown now) with the choice the form shows, which is theirs from now on.
 */
export function startDraft<T extends string>(
  draft: Draft<T> | null,
  offered: readonly T[],
  basis: Target,
): Draft<T> | null {
  if (draft !== null) return draft
  const choice = offered[0]
  return choice === undefined ? null : { choice, basis }
}

/**
 * The draft once the person chose `choice`. It keeps the copy it was started on; but choosing again
 * after the draft's choice went is a new start, on `basis` (the copy shown now): they were told it changed.
 */
export function choose<T extends string>(
  draft: Draft<T> | null,
  choice: T,
  offered: readonly T[],
  basis: Target,
): Draft<T> {
  if (draft === null || !offered.includes(draft.choice)) return { choice, basis }
  return { choice, basis: draft.basis }
}

/**
 * The draft once a conflict [C3] told the person what changed: based on the target as it is now
 * (`current`), so the next send expects it, as **Retry** does. Its choice stays theirs.
 */
export function rebase<T extends string>(draft: Draft<T> | null, current: Target): Draft<T> | null {
  return draft !== null && current.version > draft.basis.version ? { choice: draft.choice, basis: current } : draft
}
