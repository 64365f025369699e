/**
 * Markings in STIX 2.1: TLP 2.0 and PAP as the OASIS CTI TC publishes them (marking-definition
 * objects with fixed ids, each carrying a property extension), TLP 1.0 as the STIX 2.1
 * specification defines it (understood on import, never written), and the way back from
 * `object_marking_refs` to a Watchfloor `Marking`.
 */
import type { Marking, Pap, Tlp } from '@watchfloor/protocol'
import type { StixObject } from './stixTypes.ts'

/** The extension every TLP 2.0 marking-definition carries (`tlp_2_0`: clear, green, amber, amber+strict, red). */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d'
/** The extension every PAP marking-definition carries (`pap`: clear, green, amber, red; white before PAP 2.0). */
export const PAP_EXTENSION_ID = 'extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b'

/** The five TLP 2.0 marking-definition ids (FIRST TLP 2.0 as published in STIX by the OASIS CTI TC). */
export const TLP2_MARKING_IDS: Readonly<Record<Tlp, string>> = {
  CLEAR: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  GREEN: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  AMBER: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  RED: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
}

/** The four TLP 1.0 marking-definition ids of the STIX 2.1 specification (section 7.2.1.4). */
export const TLP1_MARKING_IDS = {
  WHITE: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  GREEN: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  AMBER: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  RED: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const

/**
 * The PAP marking-definition ids of the OASIS PAP extension (cti-stix-common-objects,
 * extension-definition-specifications/pap-marking-definition-f8d).
 */
export const PAP_MARKING_IDS: Readonly<Record<Pap, string>> = {
  CLEAR: 'marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92',
  GREEN: 'marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9',
  AMBER: 'marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab',
  RED: 'marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e',
}
/** PAP:WHITE, the name PAP 1 gave to CLEAR: understood on import, never written. */
export const PAP_WHITE_MARKING_ID = 'marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730'

const TLP2_CREATED = '2022-10-01T00:00:00.000Z'
/** When OASIS created each PAP marking-definition: part of the published objects. */
const PAP_CREATED: Readonly<Record<Pap, string>> = {
  CLEAR: '2022-10-01T00:00:00.000Z',
  GREEN: '2022-10-09T00:00:00.000Z',
  AMBER: '2022-10-02T00:00:00.000Z',
  RED: '2022-10-06T00:00:00.000Z',
}

/** The TLP 2.0 marking-definition object of a level, exactly as published. */
export function tlpMarkingDefinition(tlp: Tlp): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP2_MARKING_IDS[tlp],
    created: TLP2_CREATED,
    name: `TLP:${tlp}`,
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp.toLowerCase() } },
  }
}

/** The PAP marking-definition object of a level, exactly as published. */
export function papMarkingDefinition(pap: Pap): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: PAP_MARKING_IDS[pap],
    created: PAP_CREATED[pap],
    name: `PAP:${pap}`,
    extensions: { [PAP_EXTENSION_ID]: { extension_type: 'property-extension', pap: pap.toLowerCase() } },
  }
}

/** The marking-definition object behind a well-known id this module writes (TLP 2.0 or PAP), if it is one. */
export function wellKnownMarkingDefinition(id: string): StixObject | undefined {
  const tlp = TLP_BY_ID.get(id)
  if (tlp !== undefined && TLP2_MARKING_IDS[tlp] === id) return tlpMarkingDefinition(tlp)
  const pap = PAP_BY_ID.get(id)
  if (pap !== undefined && PAP_MARKING_IDS[pap] === id) return papMarkingDefinition(pap)
  return undefined
}

/** `object_marking_refs` for a marking: its TLP 2.0 definition, then its PAP definition when it has one. */
export function markingRefs(marking: Pick<Marking, 'tlp' | 'pap'>): string[] {
  const refs = [TLP2_MARKING_IDS[marking.tlp]]
  if (marking.pap !== undefined) refs.push(PAP_MARKING_IDS[marking.pap])
  return refs
}

/** Every well-known marking-definition id, TLP 1.0 and 2.0, to its Watchfloor TLP. */
const TLP_BY_ID: ReadonlyMap<string, Tlp> = new Map<string, Tlp>([
  ...(Object.entries(TLP2_MARKING_IDS) as [Tlp, string][]).map(([tlp, id]): [string, Tlp] => [id, tlp]),
  [TLP1_MARKING_IDS.WHITE, 'CLEAR'],
  [TLP1_MARKING_IDS.GREEN, 'GREEN'],
  [TLP1_MARKING_IDS.AMBER, 'AMBER'],
  [TLP1_MARKING_IDS.RED, 'RED'],
])

const PAP_BY_ID: ReadonlyMap<string, Pap> = new Map<string, Pap>([
  ...(Object.entries(PAP_MARKING_IDS) as [Pap, string][]).map(([pap, id]): [string, Pap] => [id, pap]),
  [PAP_WHITE_MARKING_ID, 'CLEAR'],
])

const TLP_WORDS: Readonly<Record<string, Tlp>> = {
  white: 'CLEAR',
  clear: 'CLEAR',
  green: 'GREEN',
  amber: 'AMBER',
  'amber+strict': 'AMBER+STRICT',
  red: 'RED',
}
const PAP_WORDS: Readonly<Record<string, Pap>> = {
  white: 'CLEAR',
  clear: 'CLEAR',
  green: 'GREEN',
  amber: 'AMBER',
  red: 'RED',
}

/**
 * What one marking-definition means to Watchfloor: a TLP, a PAP, nothing it understands (a
 * statement), or a TLP marking in words it does not know (`unknownTlp`), which no reading may widen.
 */
export interface MarkingMeaning {
  tlp?: Tlp
  pap?: Pap
  /**
   * The TLP only a definition's name says (a statement named `TLP:RED`): no TLP marking, but no
   * reading may widen what it says either, so it counts only when stricter than what the object
   * gets otherwise (its TLP markings, else the default).
   */
  namedTlp?: Tlp
  unknownTlp?: true
  /** Neither well known nor among the definitions at hand: it may say anything. */
  unresolved?: true
}

/**
 * The meaning of a marking-definition id: the well-known TLP 1.0, TLP 2.0 and PAP ids by id;
 * any other through its object in the bundle (`definitions`), read from a TLP 1.0
 * `definition` (its type and key in any case, as OpenCTI defines TLP:AMBER+STRICT), a TLP 2.0 or
 * PAP extension, or, for a definition of type TLP, its name `TLP:<level>`. A TLP definition or
 * extension whose level is none of TLP's, or any definition named `TLP:<level>` at such a level, is
 * `unknownTlp`. A marking neither well known nor in the bundle is `unresolved`: it may say
 * anything. A definition of another type (a statement) named `TLP:<level>` gives that level as
 * `namedTlp`, which only ever makes an object stricter; otherwise a statement means nothing.
 */
export function markingMeaning(id: string, definitions?: ReadonlyMap<string, StixObject>): MarkingMeaning {
  const tlp = TLP_BY_ID.get(id)
  if (tlp !== undefined) return { tlp }
  const pap = PAP_BY_ID.get(id)
  if (pap !== undefined) return { pap }
  const object = definitions?.get(id)
  // not served with the objects (or skipped as invalid): it could be anything, RED too
  if (object === undefined) return { unresolved: true }
  const tlpType = String(object.definition_type ?? '').toLowerCase() === 'tlp'
  if (tlpType && isRecord(object.definition)) {
    const level = Object.entries(object.definition).find(([key]) => key.toLowerCase() === 'tlp')?.[1]
    const word = TLP_WORDS[String(level).toLowerCase()]
    if (word !== undefined) return { tlp: word }
  }
  const extensions = isRecord(object.extensions) ? object.extensions : {}
  const tlp2 = extensions[TLP2_EXTENSION_ID]
  if (isRecord(tlp2)) {
    const word = TLP_WORDS[String(tlp2.tlp_2_0).toLowerCase()]
    // the TLP 2.0 extension at a level TLP 2.0 does not have
    return word === undefined ? { unknownTlp: true } : { tlp: word }
  }
  // a definition of type TLP whose definition says no level it knows, named `TLP:<level>`
  const named = /^\s*TLP\s*:\s*(\S+)\s*$/i.exec(typeof object.name === 'string' ? object.name : '')
  const byName = named ? TLP_WORDS[named[1]!.toLowerCase()] : undefined
  if (tlpType) return byName === undefined ? { unknownTlp: true } : { tlp: byName }
  const meaning: MarkingMeaning = {}
  const papExtension = extensions[PAP_EXTENSION_ID]
  if (isRecord(papExtension)) {
    const word = PAP_WORDS[String(papExtension.pap).toLowerCase()]
    if (word !== undefined) meaning.pap = word
  }
  // a name alone (a statement named `TLP:RED`) is no TLP marking, and taken as one it could widen
  // what the default gives (TLP:CLEAR); ignored, it could widen what the partner said (TLP:RED
  // read as the default GREEN): so it counts only where it is the stricter
  if (byName !== undefined) meaning.namedTlp = byName
  else if (named) meaning.unknownTlp = true
  return meaning
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
