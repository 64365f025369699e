import { directoryRefusal } from '@watchfloor/core'
import { parseOrThrow, plainName, unsafeInName, WatchfloorError } from '@watchfloor/protocol'
import { ORGANISATION_KINDS } from '@watchfloor/store'
import express, { type Request, type Response } from 'express'
import { z } from 'zod'
import { refusalError } from '../http/errors.ts'
import { type Access, type Caller, callerOf, knowsCommunity, recheckCaller } from './access.ts'

/** Organisations and communities: lower case; nations are upper case, so no id is both [V10]. */
const DirectoryId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, dot, dash or underscore; up to 64')
const Name = plainName(200)
const Nation = z
  .string()
  .trim()
  .regex(/^[A-Z][A-Z0-9-]{1,31}$/, 'an ISO 3166 alpha-2 code (EE) or an alliance body (ALLIANCE)')
const Kind = z.enum(ORGANISATION_KINDS)

export const NewOrganisationBody = z.object({ id: DirectoryId, name: Name, nation: Nation, kind: Kind }).strict()
const OrganisationPatchBody = z
  .object({ name: Name.optional(), nation: Nation.optional(), kind: Kind.optional() })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of name, nation, kind')
const Members = z
  .array(DirectoryId)
  .max(1000)
  .transform((members) => [...new Set(members)].sort())
const NewCommunityBody = z.object({ id: DirectoryId, name: Name, members: Members.default([]) }).strict()
const CommunityPatchBody = z
  .object({ name: Name.optional(), members: Members.optional() })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of name, members')

/**
 * The directory (`/api/v1/directory`): organisations (who they are, their nation, their kind) and
 * communities (named sets of organisations that `releasableTo` may name [V10]). Everyone signed
 * in reads the organisations and the communities its own organisation belongs to; admins read
 * all and change it. Each change is in force for the next request (and, through the credential
 * store's notifications, on every process): a socket whose communities changed starts again.
 */
export function directoryRoutes(access: Access): express.Router {
  const router = express.Router()
  const { credentials, directory } = access
  const json = express.json({ limit: '64kb' })
  const admin = (req: Request): Caller => {
    const caller = callerOf(req)
    const refusal = directoryRefusal({ ...caller, readOnly: caller.kind === 'display' })
    if (refusal) throw refusalError(refusal) // [A8]
    return caller
  }
  /** The id in the path: one with a control character is no entry's, answered as a missing one without asking the store. */
  const pathId = (req: Request, what: 'organisation' | 'community'): string => {
    const id = String(req.params.id)
    if (unsafeInName(id)) throw new WatchfloorError('not_found', `no ${what} ${JSON.stringify(id)} in the directory`)
    return id
  }
  const changed = async (res: Response, status: number, body: unknown) => {
    await directory.load()
    if (body === undefined) res.status(status).end()
    else res.status(status).json(body)
  }

  router.use('/directory', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })

  router.get('/directory', async (req, res) => {
    const caller = callerOf(req)
    await directory.load()
    // what the caller may know of it [A8]: every organisation, the communities it knows
    const known = { ...caller, communities: directory.communitiesOf(caller.organisation) }
    res.json({
      organisations: directory.listOrganisations(),
      communities: directory.listCommunities().filter((community) => knowsCommunity(known, community.id)),
    })
  })

  router.post('/directory/organisations', json, recheckCaller, async (req, res) => {
    admin(req)
    const body = parseOrThrow(NewOrganisationBody, req.body)
    const organisation = await credentials.createOrganisation(body)
    await changed(res, 201, { organisation })
  })

  router.patch('/directory/organisations/:id', json, recheckCaller, async (req, res) => {
    admin(req)
    const id = pathId(req, 'organisation')
    const patch = parseOrThrow(OrganisationPatchBody, req.body)
    const organisation = await credentials.updateOrganisation(id, stripUndefined(patch))
    if (!organisation) throw new WatchfloorError('not_found', `no organisation ${id} in the directory`)
    await changed(res, 200, { organisation })
  })

  router.delete('/directory/organisations/:id', recheckCaller, async (req, res) => {
    admin(req)
    const id = pathId(req, 'organisation')
    // the store knows its accounts and tokens; the static ones are the server's
    if (access.registry.has(id))
      throw new WatchfloorError(
        'conflict',
        `${id} is in use: the server's static tokens (WATCHFLOOR_TOKENS, or the demo set when it is unset) belong to it`,
      )
    if (!(await credentials.deleteOrganisation(id)))
      throw new WatchfloorError('not_found', `no organisation ${id} in the directory`)
    await changed(res, 204, undefined)
  })

  router.post('/directory/communities', json, recheckCaller, async (req, res) => {
    admin(req)
    const body = parseOrThrow(NewCommunityBody, req.body)
    const community = await credentials.createCommunity(body)
    await changed(res, 201, { community })
  })

  router.patch('/directory/communities/:id', json, recheckCaller, async (req, res) => {
    admin(req)
    const id = pathId(req, 'community')
    const patch = parseOrThrow(CommunityPatchBody, req.body)
    const community = await credentials.updateCommunity(id, stripUndefined(patch))
    if (!community) throw new WatchfloorError('not_found', `no community ${id} in the directory`)
    await changed(res, 200, { community })
  })

  router.delete('/directory/communities/:id', recheckCaller, async (req, res) => {
    admin(req)
    const id = pathId(req, 'community')
    if (!(await credentials.deleteCommunity(id)))
      throw new WatchfloorError('not_found', `no community ${id} in the directory`)
    await changed(res, 204, undefined)
  })

  return router
}

function stripUndefined<T extends Record<string, unknown>>(patch: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>
  }
}
