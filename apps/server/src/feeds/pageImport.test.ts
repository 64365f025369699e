/**
 * A feed's page never fails as a whole: when importing its objects together fails (an error the
 * import did not catch, or a bundle it finds invalid), each is imported alone, beside the
 * definitions, and the one that fails again is skipped, saying why. The import is made to fail here
 * for one object, standing in for any such bug.
 */
import type { Marking } from '@watchfloor/protocol'
import { importStix, type StixImportOptions, type StixObject, TLP2_MARKING_IDS } from '@watchfloor/sharing'
import { describe, expect, it } from 'vitest'
import { type ImportFn, importPageObjects } from './pageImport.ts'

const options: StixImportOptions = {
  organisation: 'cert-lv',
  defaultMarking: { tlp: 'AMBER' } as Marking,
  partner: 'feed:partner1',
}
const T1 = '2026-11-26T08:00:00.000Z'
let counter = 0
const id = (type: string): string => `${type}--00000000-0000-4000-8000-${(++counter).toString(16).padStart(12, '0')}`
const definition = {
  type: 'marking-definition',
  spec_version: '2.1',
  id: id('marking-definition'),
  created: T1,
  definition_type: 'TLP',
  name: 'TLP:AMBER+STRICT',
  definition: { TLP: 'AMBER+STRICT' },
}
const incident = (name: string, marking = TLP2_MARKING_IDS.GREEN): StixObject => ({
  type: 'incident',
  spec_version: '2.1',
  id: id('incident'),
  created: T1,
  modified: T1,
  name,
  object_marking_refs: [marking],
})

/** `importStix`, but failing on any bundle that holds an object named `Boom` (thrown, or as errors). */
const failingOn =
  (how: 'throw' | 'errors'): ImportFn =>
  (bundle, opts) => {
    const objects = (bundle as { objects: StixObject[] }).objects
    if (objects.some((object) => object.name === 'Boom')) {
      if (how === 'throw') throw new RangeError('Maximum call stack size exceeded')
      return { events: [], created: [], used: [], skipped: [], defaulted: [], errors: [{ path: 'x', message: 'y' }] }
    }
    return importStix(bundle, opts)
  }

describe("a feed's page through the import", () => {
  it('imports the page together when it can: the same as one import', () => {
    const objects = [definition, incident('One', definition.id), incident('Two')]
    const together = importPageObjects(objects, [], options)
    expect(together.failed).toBeUndefined()
    expect(together.created.map((entry) => entry.stixId)).toEqual([objects[1]!.id, objects[2]!.id])
    expect(together.events.map((event) => event.marking?.tlp)).toEqual(['AMBER+STRICT', 'GREEN'])
  })

  it.each(['throw', 'errors'] as const)(
    'when the import fails (%s), imports each object alone and skips the one that fails again, saying why',
    (how) => {
      const earlier = { ...definition, id: id('marking-definition') }
      const objects = [definition, incident('One', definition.id), incident('Boom'), incident('Three', earlier.id)]
      const result = importPageObjects(objects, [earlier], options, failingOn(how))
      expect(result.failed).toMatch(/^could not be imported: /)
      expect(result.errors).toEqual([])
      // the others as they would have been, each with the definitions it names (the page's, the earlier)
      expect(result.events.map((event) => [(event.payload as { title: string }).title, event.marking?.tlp])).toEqual([
        ['One', 'AMBER+STRICT'],
        ['Three', 'AMBER+STRICT'],
      ])
      expect(result.created.map((entry) => entry.stixId)).toEqual([objects[1]!.id, objects[3]!.id])
      expect(result.skipped).toEqual([
        {
          stixId: objects[2]!.id,
          type: 'incident',
          reason:
            how === 'throw'
              ? 'could not be imported: Maximum call stack size exceeded'
              : 'could not be imported: not a valid bundle, x: y',
        },
      ])
    },
  )
})
