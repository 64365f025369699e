import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../data/api.ts'
import type { Session } from '../../data/store.ts'
import { pageRequested } from '../coordination/coordination.ts'
import {
  type Community,
  candidates,
  communitiesByOrganisation,
  communityPath,
  createCommunity,
  createOrganisation,
  deleteCommunity,
  deleteOrganisation,
  describeFormError,
  directoryOf,
  fieldOfIssue,
  formErrorOf,
  headlineOf,
  issuesFor,
  issuesUnder,
  kindLabel,
  loadDirectory,
  mayEditDirectory,
  mayOpenSharing,
  type Organisation,
  organisationPath,
  renameOrganisation,
  updateCommunity,
  withMember,
  withoutMember,
} from './directory.ts'

const T = '2026-11-01T12:00:00.000Z'
const org = (id: string, name = id.toUpperCase()): Organisation => ({
  id,
  name,
  nation: 'EE',
  kind: 'ally_cert',
  createdAt: T,
  updatedAt: T,
})
const community = (id: string, members: string[]): Community => ({ id, name: id, members, createdAt: T, updatedAt: T })
const session = (roles: Session['roles'], kind?: Session['kind']): Session => ({
  user: 'u',
  organisation: 'cert-lv',
  nation: 'LV',
  roles,
  ...(kind === undefined ? {} : { kind }),
})

type Call = [string, RequestInit]
function fakeFetch(status: number, body: unknown) {
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) =>
    status === 204 ? new Response(null, { status }) : Response.json(body, { status }),
  )
}
const callOf = (fetchFn: ReturnType<typeof fakeFetch>, i = 0) => fetchFn.mock.calls[i] as unknown as Call

describe('the directory as the Sharing page reads it', () => {
  it('sorts organisations and communities by id, members too, and reads a missing list as empty', () => {
    const directory = directoryOf({
      organisations: [org('cert-lv'), org('alliance'), org('cert-ee')],
      communities: [community('nordic', ['cert-lv', 'cert-ee']), community('baltic', ['cert-ee'])],
    })
    expect(directory.organisations.map((o) => o.id)).toEqual(['alliance', 'cert-ee', 'cert-lv'])
    expect(directory.communities.map((c) => c.id)).toEqual(['baltic', 'nordic'])
    expect(directory.communities[1]!.members).toEqual(['cert-ee', 'cert-lv'])
    expect(directoryOf({ organisations: [org('a')] })).toEqual({ organisations: [org('a')], communities: [] })
    expect(directoryOf(null)).toEqual({ organisations: [], communities: [] })
  })

  it('lists the communities each organisation belongs to, sorted', () => {
    const map = communitiesByOrganisation(
      directoryOf({
        organisations: [org('cert-ee'), org('cert-lv'), org('alliance')],
        communities: [community('nordic', ['cert-lv', 'cert-ee']), community('baltic', ['cert-ee'])],
      }),
    )
    expect(map.get('cert-ee')).toEqual(['baltic', 'nordic'])
    expect(map.get('cert-lv')).toEqual(['nordic'])
    expect(map.get('alliance')).toBeUndefined()
  })

  it('adds and removes members as sets, and offers only organisations not yet in', () => {
    expect(withMember(['cert-lv'], 'cert-ee')).toEqual(['cert-ee', 'cert-lv'])
    expect(withMember(['cert-ee'], 'cert-ee')).toEqual(['cert-ee'])
    expect(withoutMember(['cert-ee', 'cert-lv'], 'cert-ee')).toEqual(['cert-lv'])
    expect(withoutMember(['cert-lv'], 'nobody')).toEqual(['cert-lv'])
    const all = [org('alliance'), org('cert-ee'), org('cert-lv')]
    expect(candidates(all, community('c', ['cert-ee'])).map((o) => o.id)).toEqual(['alliance', 'cert-lv'])
  })

  it('names the kinds, and shows a kind it does not know as the server wrote it', () => {
    expect(kindLabel('ally_cert')).toBe('Allied CERT')
    expect(kindLabel('alliance_body')).toBe('Alliance body')
    expect(kindLabel('space_agency')).toBe('space_agency')
  })
})

describe('who sees and who changes the directory', () => {
  it('opens the page for admins, liaisons and whoever may import (a posting role), not a display token', () => {
    expect(mayOpenSharing(session(['admin']))).toBe(true)
    expect(mayOpenSharing(session(['liaison']))).toBe(true)
    expect(mayOpenSharing(session(['sensor']))).toBe(true)
    expect(mayOpenSharing(session(['coordinator'], 'session'))).toBe(true)
    expect(mayOpenSharing(session(['coordinator'], 'display'))).toBe(false)
    expect(mayOpenSharing(session(['watch_officer', 'analyst']))).toBe(false)
    expect(mayOpenSharing(null)).toBe(false)
  })

  it('lets an admin change it, as the server does: not a liaison, not a display token', () => {
    expect(mayEditDirectory(session(['admin'], 'session'))).toBe(true)
    expect(mayEditDirectory(session(['admin']))).toBe(true)
    expect(mayEditDirectory(session(['liaison'], 'session'))).toBe(false)
    expect(mayEditDirectory(session(['admin'], 'display'))).toBe(false)
    expect(mayEditDirectory(undefined)).toBe(false)
  })
})

describe('refusals, as a form shows them', () => {
  it('keeps the server’s code, message and issues, and names the field of each issue', () => {
    const error = formErrorOf(
      new ApiError({
        status: 400,
        error: {
          code: 'validation',
          message: 'invalid input: nation: an ISO 3166 alpha-2 code; members.1: lower-case',
          details: {
            issues: [
              { path: 'nation', message: 'an ISO 3166 alpha-2 code (EE) or an alliance body (ALLIANCE)' },
              { path: 'members.1', message: 'lower-case' },
              { path: '(root)', message: 'Unrecognized key: "colour"' },
              { nonsense: true },
            ],
          },
        },
      }),
    )
    expect(error.code).toBe('validation')
    expect(error.issues).toHaveLength(3)
    expect(issuesFor(error, 'nation').map((i) => i.message)).toEqual([
      'an ISO 3166 alpha-2 code (EE) or an alliance body (ALLIANCE)',
    ])
    expect(issuesFor(error, 'members').map((i) => i.path)).toEqual(['members.1'])
    expect(issuesFor(error, 'id')).toEqual([])
    expect(issuesFor(null, 'id')).toEqual([])
    // a nested field's own issues: `auth.secretEnv`, not `auth.username`
    const nested = formErrorOf(
      new ApiError({
        status: 400,
        error: {
          code: 'validation',
          message: 'invalid input',
          details: {
            issues: [
              { path: 'auth.secretEnv', message: 'the name of an environment variable' },
              { path: 'auth.username', message: 'required' },
              { path: 'authority', message: 'not this one' },
            ],
          },
        },
      }),
    )
    expect(issuesUnder(nested, 'auth.secretEnv').map((i) => i.message)).toEqual(['the name of an environment variable'])
    expect(issuesUnder(nested, 'auth').map((i) => i.path)).toEqual(['auth.secretEnv', 'auth.username'])
    expect(issuesUnder(null, 'auth')).toEqual([])
    expect(fieldOfIssue('members.3')).toBe('members')
    expect(fieldOfIssue('(root)')).toBe('')
    expect(headlineOf(error.code)).toBe('Check the input')
  })

  it('says the status with the server’s words, or that there was no answer', () => {
    const taken = formErrorOf(
      new ApiError({ status: 409, error: { code: 'conflict', message: 'id cert-ee is taken by an organisation' } }),
    )
    expect(taken).toEqual({
      status: 409,
      code: 'conflict',
      message: 'id cert-ee is taken by an organisation',
      issues: [],
    })
    expect(describeFormError(taken)).toBe('Id cert-ee is taken by an organisation')
    expect(headlineOf('conflict')).toBe('Refused')
    const lost = formErrorOf(new TypeError('failed to fetch'))
    expect(lost.status).toBe(0)
    expect(lost.code).toBe('unavailable')
    expect(describeFormError(lost)).toBe('Cannot reach the server (TypeError: failed to fetch)')
    expect(headlineOf('made_up')).toBe('Failed')
  })
})

describe('the directory’s REST calls', () => {
  it('reads the directory', async () => {
    const fetchFn = fakeFetch(200, { organisations: [org('b'), org('a')], communities: [] })
    const directory = await loadDirectory(fetchFn)
    expect(directory.organisations.map((o) => o.id)).toEqual(['a', 'b'])
    const [path, init] = callOf(fetchFn)
    expect(path).toBe('/api/v1/directory')
    expect(init).toMatchObject({ method: 'GET', credentials: 'same-origin' })
  })

  it('posts a new organisation and a new community as JSON', async () => {
    const postOrg = fakeFetch(201, { organisation: org('cert-x') })
    expect(await createOrganisation({ id: 'cert-x', name: 'X', nation: 'XX', kind: 'industry' }, postOrg)).toEqual(
      org('cert-x'),
    )
    expect(callOf(postOrg)[0]).toBe('/api/v1/directory/organisations')
    expect(callOf(postOrg)[1]).toMatchObject({
      method: 'POST',
      body: JSON.stringify({ id: 'cert-x', name: 'X', nation: 'XX', kind: 'industry' }),
    })
    const postCommunity = fakeFetch(201, { community: community('baltic', ['cert-ee', 'cert-lv']) })
    await createCommunity({ id: 'baltic', name: 'Baltic', members: ['cert-ee', 'cert-lv'] }, postCommunity)
    expect(callOf(postCommunity)[0]).toBe('/api/v1/directory/communities')
    expect(JSON.parse(String(callOf(postCommunity)[1].body))).toEqual({
      id: 'baltic',
      name: 'Baltic',
      members: ['cert-ee', 'cert-lv'],
    })
  })

  it('changes with PATCH and deletes with DELETE, the id in the path escaped', async () => {
    const patchCommunity = fakeFetch(200, { community: community('baltic', ['cert-lv']) })
    await updateCommunity('baltic', { members: ['cert-lv'] }, patchCommunity)
    expect(callOf(patchCommunity)[0]).toBe('/api/v1/directory/communities/baltic')
    expect(callOf(patchCommunity)[1]).toMatchObject({
      method: 'PATCH',
      credentials: 'same-origin',
      body: '{"members":["cert-lv"]}',
    })
    expect(callOf(patchCommunity)[1].headers).toMatchObject({ 'Content-Type': 'application/json' })
    const patchOrg = fakeFetch(200, { organisation: org('cert-x', 'New') })
    expect((await renameOrganisation('cert-x', 'New', patchOrg)).name).toBe('New')
    expect(callOf(patchOrg)[1]).toMatchObject({ method: 'PATCH', body: '{"name":"New"}' })

    const del = fakeFetch(204, null)
    await deleteOrganisation('a/b', del)
    await deleteCommunity('baltic', del)
    expect(callOf(del, 0)[0]).toBe('/api/v1/directory/organisations/a%2Fb')
    expect(callOf(del, 0)[1]).toMatchObject({ method: 'DELETE' })
    expect(callOf(del, 1)[0]).toBe(communityPath('baltic'))
    expect(organisationPath('cert-ee')).toBe('/api/v1/directory/organisations/cert-ee')
  })

  it('throws the server’s refusal, which reads as the form’s error', async () => {
    const inUse = fakeFetch(409, {
      error: { code: 'conflict', message: 'organisation cert-x is in use by community baltic' },
    })
    const thrown = await deleteOrganisation('cert-x', inUse).catch((e: unknown) => e)
    expect(thrown).toBeInstanceOf(ApiError)
    expect(formErrorOf(thrown)).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'organisation cert-x is in use by community baltic',
    })
    const invalid = fakeFetch(400, {
      error: { code: 'validation', message: 'invalid input', details: { issues: [{ path: 'id', message: 'bad' }] } },
    })
    const refused = await updateCommunity('x', { name: '' }, invalid).catch((e: unknown) => e)
    expect(issuesFor(formErrorOf(refused), 'id')).toEqual([{ path: 'id', message: 'bad' }])
  })
})

describe('the Sharing page’s place', () => {
  it('a link opens it with ?sharing=1, as ?handover=1 opens the handover', () => {
    expect(pageRequested('?sharing=1&sev=high')).toBe('sharing')
    expect(pageRequested('?handover=1')).toBe('handover')
    expect(pageRequested('')).toBe('picture')
  })
})
