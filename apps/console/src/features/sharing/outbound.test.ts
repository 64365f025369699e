import { describe, expect, it } from 'vitest'
import {
  ALL_COLLECTION_ID,
  curlOf,
  mispFeedUrl,
  outboundCollections,
  taxiiApiRootUrl,
  taxiiDiscoveryUrl,
} from './outbound.ts'

describe('what partners pull from this floor', () => {
  it('names the TAXII and MISP URLs from the origin', () => {
    for (const origin of ['https://floor.example', 'https://floor.example/']) {
      expect(taxiiDiscoveryUrl(origin)).toBe('https://floor.example/taxii2/')
      expect(taxiiApiRootUrl(origin)).toBe('https://floor.example/taxii2/api/')
      expect(mispFeedUrl(origin)).toBe('https://floor.example/misp/feed/')
    }
  })

  it('lists "all", then a community-<id> alias per community, by id, as the server names them', () => {
    const collections = outboundCollections('http://h:8080', [
      { id: 'nordic', name: 'Nordic CERTs' },
      { id: 'baltic', name: 'Baltic CERTs' },
    ])
    expect(collections.map((c) => c.alias)).toEqual(['all', 'community-baltic', 'community-nordic'])
    expect(collections[0]).toEqual({
      alias: 'all',
      title: 'All I may see',
      id: ALL_COLLECTION_ID,
      objectsUrl: 'http://h:8080/taxii2/api/collections/all/objects/',
    })
    expect(collections[1]).toEqual({
      alias: 'community-baltic',
      title: 'Releasable to Baltic CERTs',
      community: 'baltic',
      objectsUrl: 'http://h:8080/taxii2/api/collections/community-baltic/objects/',
    })
    expect(outboundCollections('http://h', []).map((c) => c.alias)).toEqual(['all'])
  })

  it('keeps the id of "all" the server computes (uuidv5 of the TAXII namespace)', () => {
    expect(ALL_COLLECTION_ID).toBe('0cefe999-e035-5f3f-b2e9-40db7e0aca21')
  })

  it('shows a partner how to try it with a token of its own', () => {
    expect(curlOf('https://h/taxii2/')).toBe(
      `curl -H 'Accept: application/taxii+json;version=2.1' -H "Authorization: Bearer $TOKEN" https://h/taxii2/`,
    )
  })
})
