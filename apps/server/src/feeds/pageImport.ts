/**
 * One page of a partner's objects through the STIX import, never failing the page. The page's
 * objects (each already checked alone) are imported together, beside the marking definitions the
 * feed served before. Should that fail (an error the import did not catch, or a bundle it finds
 * invalid: a bug, never the partner's doing, but a feed must not stop at one page for good), each
 * object is imported alone, beside those definitions and the page's own, and one that fails again
 * is skipped, saying why: every object of the page is then imported or skipped, and the poll's
 * cursor moves past it.
 */
import { importStix, type StixImportOptions, type StixImportResult, stixBundle } from '@watchfloor/sharing'

/** The import a page goes through (`importStix`; another only in tests, to make it fail). */
export type ImportFn = (bundle: unknown, options: StixImportOptions) => StixImportResult

type StixObjects = Parameters<typeof stixBundle>[0]

/**
 * The import of `objects` (valid STIX objects, one page) beside `earlier` (marking definitions
 * served before): what importing them together gives, or, when that fails, what importing each
 * alone gives, with the objects that fail alone too skipped. `errors` is always empty.
 */
export function importPageObjects(
  objects: readonly unknown[],
  earlier: readonly unknown[],
  options: StixImportOptions,
  importFn: ImportFn = importStix,
): StixImportResult & { failed?: string } {
  const together = attempt(importFn, [...earlier, ...objects], options)
  if (together.ok) return together.result
  const out: StixImportResult = { events: [], created: [], used: [], skipped: [], defaulted: [], errors: [] }
  const definitions = objects.filter((object) => typeOf(object) === 'marking-definition')
  for (const object of objects) {
    // the page's definitions stand beside every object, as they did together, and are not imported alone
    if (typeOf(object) === 'marking-definition') continue
    const id = idOf(object)
    const alone = attempt(importFn, [...earlier, ...definitions, object], options)
    if (!alone.ok) {
      out.skipped.push({ ...(id === undefined ? {} : { stixId: id }), type: typeOf(object), reason: alone.reason })
      continue
    }
    const mine = <T extends { stixId?: string }>(entries: readonly T[]) => entries.filter((e) => e.stixId === id)
    out.events.push(...alone.result.events)
    out.created.push(...mine(alone.result.created))
    out.used.push(...mine(alone.result.used))
    out.skipped.push(...mine(alone.result.skipped))
    out.defaulted.push(...alone.result.defaulted.filter((stixId) => stixId === id))
  }
  return { ...out, failed: together.reason }
}

function attempt(
  importFn: ImportFn,
  objects: readonly unknown[],
  options: StixImportOptions,
): { ok: true; result: StixImportResult } | { ok: false; reason: string } {
  try {
    const result = importFn(stixBundle(objects as StixObjects), options)
    if (result.errors.length === 0) return { ok: true, result }
    const [first] = result.errors
    return { ok: false, reason: `could not be imported: not a valid bundle, ${first!.path}: ${first!.message}` }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return { ok: false, reason: `could not be imported: ${message.slice(0, 200)}` }
  }
}

function typeOf(object: unknown): string {
  const type = typeof object === 'object' && object !== null ? (object as { type?: unknown }).type : undefined
  return typeof type === 'string' ? type : 'unknown'
}

function idOf(object: unknown): string | undefined {
  const id = typeof object === 'object' && object !== null ? (object as { id?: unknown }).id : undefined
  return typeof id === 'string' ? id.slice(0, 200) : undefined
}
