import type { Location, NetworkKind } from '@watchfloor/protocol'

/** One allied network as the simulator registers it on the floor. */
export interface AlliedNetwork {
  readonly networkId: string
  readonly name: string
  /** What a tight place shows (a timeline lane): the country, or a short name of the alliance body; under 20 characters. */
  readonly shortName: string
  /** The organisation that reports for this network (`source.organisation`). */
  readonly organisation: string
  /** ISO 3166-1 alpha-2 code, or 'ALLIANCE' for the alliance bodies. */
  readonly nation: string
  readonly kind: NetworkKind
  /** The city the location points at (a capital for the national CERTs). */
  readonly city: string
  readonly location: Location
}

/** The nation id of the alliance bodies' organisation. */
export const ALLIANCE_NATION = 'ALLIANCE'
/** The organisation id of the alliance bodies. */
export const ALLIANCE_ORGANISATION = 'alliance'

interface NationalCert {
  nation: string
  country: string
  /** The short name when the country's name is not one on its own ("the Netherlands": "Netherlands"). */
  short?: string
  city: string
  lat: number
  lon: number
  /** Organisation id when it differs from `cert-<nation in lower case>`. */
  organisation?: string
}

/** National CERTs of alliance nations, located at their capitals. */
const NATIONAL_CERTS: readonly NationalCert[] = [
  { nation: 'EE', country: 'Estonia', city: 'Tallinn', lat: 59.437, lon: 24.754 },
  { nation: 'LV', country: 'Latvia', city: 'Riga', lat: 56.949, lon: 24.105 },
  { nation: 'LT', country: 'Lithuania', city: 'Vilnius', lat: 54.687, lon: 25.28 },
  { nation: 'PL', country: 'Poland', city: 'Warsaw', lat: 52.23, lon: 21.012 },
  { nation: 'DE', country: 'Germany', city: 'Berlin', lat: 52.52, lon: 13.405 },
  { nation: 'FR', country: 'France', city: 'Paris', lat: 48.857, lon: 2.352 },
  { nation: 'NL', country: 'the Netherlands', short: 'Netherlands', city: 'The Hague', lat: 52.07, lon: 4.3 },
  { nation: 'BE', country: 'Belgium', city: 'Brussels', lat: 50.85, lon: 4.352 },
  { nation: 'LU', country: 'Luxembourg', city: 'Luxembourg', lat: 49.612, lon: 6.13 },
  {
    nation: 'GB',
    country: 'the United Kingdom',
    short: 'United Kingdom',
    city: 'London',
    lat: 51.507,
    lon: -0.128,
    organisation: 'cert-uk',
  },
  { nation: 'US', country: 'the United States', short: 'United States', city: 'Washington', lat: 38.907, lon: -77.037 },
  { nation: 'CA', country: 'Canada', city: 'Ottawa', lat: 45.421, lon: -75.697 },
  { nation: 'IS', country: 'Iceland', city: 'Reykjavik', lat: 64.147, lon: -21.942 },
  { nation: 'NO', country: 'Norway', city: 'Oslo', lat: 59.913, lon: 10.752 },
  { nation: 'DK', country: 'Denmark', city: 'Copenhagen', lat: 55.676, lon: 12.568 },
  { nation: 'SE', country: 'Sweden', city: 'Stockholm', lat: 59.329, lon: 18.069 },
  { nation: 'FI', country: 'Finland', city: 'Helsinki', lat: 60.17, lon: 24.938 },
  { nation: 'IT', country: 'Italy', city: 'Rome', lat: 41.903, lon: 12.496 },
  { nation: 'ES', country: 'Spain', city: 'Madrid', lat: 40.417, lon: -3.704 },
  { nation: 'PT', country: 'Portugal', city: 'Lisbon', lat: 38.722, lon: -9.139 },
  { nation: 'GR', country: 'Greece', city: 'Athens', lat: 37.984, lon: 23.728 },
  { nation: 'TR', country: 'Türkiye', city: 'Ankara', lat: 39.934, lon: 32.86 },
  { nation: 'RO', country: 'Romania', city: 'Bucharest', lat: 44.427, lon: 26.103 },
  { nation: 'BG', country: 'Bulgaria', city: 'Sofia', lat: 42.698, lon: 23.322 },
  { nation: 'HU', country: 'Hungary', city: 'Budapest', lat: 47.498, lon: 19.04 },
  { nation: 'CZ', country: 'Czechia', city: 'Prague', lat: 50.076, lon: 14.438 },
  { nation: 'SK', country: 'Slovakia', city: 'Bratislava', lat: 48.149, lon: 17.107 },
  { nation: 'HR', country: 'Croatia', city: 'Zagreb', lat: 45.815, lon: 15.982 },
  { nation: 'SI', country: 'Slovenia', city: 'Ljubljana', lat: 46.057, lon: 14.506 },
  { nation: 'AL', country: 'Albania', city: 'Tirana', lat: 41.328, lon: 19.819 },
  { nation: 'ME', country: 'Montenegro', city: 'Podgorica', lat: 42.441, lon: 19.263 },
  { nation: 'MK', country: 'North Macedonia', city: 'Skopje', lat: 41.998, lon: 21.425 },
]

const nationalNetworks: AlliedNetwork[] = NATIONAL_CERTS.map((cert) => {
  const code = cert.nation.toLowerCase()
  const organisation = cert.organisation ?? `cert-${code}`
  return {
    networkId: `${organisation}-net`,
    name: `National CERT network of ${cert.country}`,
    shortName: cert.short ?? cert.country,
    organisation,
    nation: cert.nation,
    kind: 'national-cert',
    city: cert.city,
    location: { lat: cert.lat, lon: cert.lon },
  }
})

const allianceBodies: AlliedNetwork[] = [
  {
    networkId: 'alliance-csoc',
    name: 'Alliance cyber security operations centre',
    shortName: 'Alliance CSOC',
    organisation: ALLIANCE_ORGANISATION,
    nation: ALLIANCE_NATION,
    kind: 'alliance-body',
    city: 'Mons',
    location: { lat: 50.454, lon: 3.952 },
  },
  {
    networkId: 'alliance-ncirc',
    name: 'Alliance computer incident response capability',
    shortName: 'Alliance NCIRC',
    organisation: ALLIANCE_ORGANISATION,
    nation: ALLIANCE_NATION,
    kind: 'alliance-body',
    // SHAPE, Casteau, just north of Mons
    city: 'Casteau',
    location: { lat: 50.5, lon: 3.985 },
  },
]

/**
 * The organisations the scenario reports for, as a directory names them: each national CERT by its
 * country, the alliance bodies' organisation as the alliance.
 */
export const ORGANISATION_ENTRIES: readonly { id: string; name: string; nation: string }[] = [
  ...NATIONAL_CERTS.map((cert) => ({
    id: cert.organisation ?? `cert-${cert.nation.toLowerCase()}`,
    name: `National CERT of ${cert.country}`,
    nation: cert.nation,
  })),
  { id: ALLIANCE_ORGANISATION, name: 'Alliance cyber defence', nation: ALLIANCE_NATION },
]

/** Every network the simulator registers: the national CERTs, then the alliance bodies. */
export const NETWORKS: readonly AlliedNetwork[] = [...nationalNetworks, ...allianceBodies]

/** Every organisation that reports for one of the networks. */
export const ORGANISATIONS: ReadonlySet<string> = new Set(NETWORKS.map((n) => n.organisation))

/** Every nation of the networks (including 'ALLIANCE'). */
export const NATIONS: ReadonlySet<string> = new Set(NETWORKS.map((n) => n.nation))

const byId = new Map(NETWORKS.map((n) => [n.networkId, n]))

/** The network with this id; throws for an unknown id. */
export function networkById(networkId: string): AlliedNetwork {
  const network = byId.get(networkId)
  if (!network) throw new Error(`unknown simulated network '${networkId}'`)
  return network
}

/** Great-circle distance in kilometres between two locations. */
export function distanceKm(a: Location, b: Location): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)))
}
