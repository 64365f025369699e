/**
 * STIX objects for the import tests: fresh ids, SDOs with their common properties, bundles. Not
 * exported from the package.
 */
import type { StixObject } from './stixTypes.ts'

export const T1 = '2026-11-26T08:00:00.000Z'
export const T2 = '2026-11-26T09:00:00.000Z'

/**
 * Builders whose ids count up from one: `id(type)` a fresh `<type>--<uuid>` (a v4-shaped UUID),
 * `sdo(type, properties)` an object created and modified at `T1` with `defaults` (markings, say),
 * `bundleOf(...objects)` a bundle of them.
 */
export function stixBuilders(defaults: Record<string, unknown> = {}) {
  let counter = 0
  const id = (type: string): string => `${type}--00000000-0000-4000-8000-${(++counter).toString(16).padStart(12, '0')}`
  const sdo = (type: string, properties: Record<string, unknown> = {}): StixObject => ({
    type,
    spec_version: '2.1',
    id: id(type),
    created: T1,
    modified: T1,
    ...defaults,
    ...properties,
  })
  const bundleOf = (...objects: StixObject[]) => ({ type: 'bundle', id: id('bundle'), objects })
  return { id, sdo, bundleOf }
}
