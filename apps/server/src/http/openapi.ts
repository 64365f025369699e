/**
 * The OpenAPI 3.1 document of the HTTP API (`GET /api/v1/openapi.json`, docs/api.md "OpenAPI"):
 * every route the server answers but the console's files, generated once from the route table
 * below and the protocol's zod schemas (`z.toJSONSchema`, JSON Schema draft 2020-12, which is the
 * schema dialect of OpenAPI 3.1). A route whose body the protocol has no schema for says what it
 * is (`text/csv`, a STIX bundle, a TAXII resource) instead of a made-up schema.
 * apps/server/test/openapi.int.test.ts lints the document and checks it against the routes the
 * server really has, both ways.
 */
import {
  AccountJson,
  type ClientToServerEvents,
  Command,
  CommunityJson,
  type ErrorCode,
  ErrorReplySchema,
  EventInput,
  FeedReply,
  FeedsOutReply,
  FeedsReply,
  IngestReply,
  MispImportReply,
  OneFeedReply,
  OrganisationJson,
  PollReply,
  PROTOCOL_VERSION,
  SERVER_MESSAGES,
  type ServerToClientEvents,
  SessionReply,
  StixImportReply,
  StoredEvent,
  SubscribeRequest,
  TLP_LEVELS,
  TokenJson,
  ViewingRequest,
  WallPreset,
} from '@watchfloor/protocol'
import { z } from 'zod'
import { RELEASE } from '../ops/release.ts'
import { TAXII_MEDIA_TYPE } from '../taxii/media.ts'
import { httpStatus } from './errors.ts'

type JsonSchema = Record<string, unknown>
type Method = 'get' | 'post' | 'patch' | 'delete'

/** Who may call a route: anyone, any caller of the API, the metrics token (or an admin), a TAXII client. */
type Access = 'public' | 'caller' | 'metrics' | 'taxii'

interface Reply {
  description: string
  /** Media type to schema; none for an empty body. */
  content?: Record<string, JsonSchema>
  /** Response headers worth naming, with what they say. */
  headers?: Record<string, string>
}

interface Body {
  description: string
  content: Record<string, JsonSchema>
  required?: boolean
}

interface Route {
  summary: string
  tag: string
  access?: Access
  description?: string
  query?: { name: string; description: string; schema: JsonSchema }[]
  body?: Body
  /** The answers other than errors, by status. */
  replies: Record<number, Reply>
  /**
   * The error family's codes this route answers with besides those every caller may get
   * (401, 403, and 400 / 404 for a bad `X-Watchfloor-View-As`), added to each non-public route.
   */
  errors?: ErrorCode[]
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: JsonSchema): Record<string, JsonSchema> => ({ 'application/json': schema })
const object = (description: string, properties?: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  description,
  ...(properties === undefined ? {} : { properties }),
})
const array = (items: JsonSchema, description?: string): JsonSchema => ({
  type: 'array',
  items,
  ...(description === undefined ? {} : { description }),
})
const string = (description?: string): JsonSchema => ({
  type: 'string',
  ...(description === undefined ? {} : { description }),
})
const integer = (description: string, minimum = 0): JsonSchema => ({ type: 'integer', minimum, description })
const dateTime: JsonSchema = { type: 'string', format: 'date-time' }

/** A body the server validates with a schema of its own (not the protocol's): described, with where it lives. */
const serverBody = (fields: string, where: string): Body => ({
  description: `${fields} (validated in ${where}; docs/api.md).`,
  content: json(object(fields)),
})

const taxii = (what: string): Record<string, JsonSchema> => ({
  [TAXII_MEDIA_TYPE]: object(`A TAXII 2.1 ${what}, as the OASIS TAXII 2.1 specification defines it.`),
})
/**
 * The filters and paging of the TAXII object endpoints (taxii/filters.ts; TAXII 2.1, 3.4): `match`
 * fields are those each endpoint defines; values of a `match` are separated by commas.
 */
function taxiiFilters(...matches: ('id' | 'type' | 'version' | 'spec_version')[]): NonNullable<Route['query']> {
  const commaList = (what: string): JsonSchema => ({ type: 'string', description: what })
  const matchOf = {
    id: { description: 'Only these STIX ids.', schema: commaList('STIX ids, separated by commas') },
    type: { description: 'Only these STIX types.', schema: commaList('STIX types, separated by commas') },
    version: {
      description: '`last`, `first`, `all` or `modified` timestamps (one version per object is held: docs/sharing.md).',
      schema: commaList('last, first, all or timestamps, separated by commas'),
    },
    spec_version: { description: 'Only these STIX versions (every object is 2.1).', schema: commaList('e.g. 2.1') },
  }
  return [
    {
      name: 'added_after',
      description: 'Only objects added to the collection after this timestamp (`X-TAXII-Date-Added-Last`).',
      schema: { type: 'string', description: 'a timestamp such as 2026-11-26T08:00:00.000000Z' },
    },
    {
      name: 'limit',
      description: 'At most this many objects (1 to 1,000; a larger limit gets 1,000).',
      schema: { type: 'integer', minimum: 1, default: 1000 },
    },
    {
      name: 'next',
      description: 'The `next` of the previous page (opaque), with the same other parameters.',
      schema: string(),
    },
    ...matches.map((field) => ({ name: `match[${field}]`, ...matchOf[field] })),
  ]
}

const stixBundle = object('A STIX 2.1 bundle (`{ type: "bundle", id, objects }`), mapped as in docs/sharing.md.')
const mispDocument = object(
  'MISP JSON: one event `{ Event }`, a search answer `{ response: [...] }` or a feed `{ manifest, events }`.',
)

const window = [
  { name: 'from', description: 'Start of the window (inclusive), ISO 8601 with an offset.', schema: dateTime },
  { name: 'to', description: 'End of the window (exclusive), ISO 8601 with an offset.', schema: dateTime },
  {
    name: 'clock',
    description: 'Which time the window is on.',
    schema: { type: 'string', enum: ['recorded', 'occurred'], default: 'recorded' },
  },
]

const stateReply: Reply = {
  description:
    "The caller's picture (`stateToJson`): `{ seq, eventCount, networks, incidents, advisories, ..., recent }`.",
  content: json(ref('State')),
}
const accountReply = json(object('`{ account }`', { account: ref('Account') }))
const tokenReply = json(object('`{ token }`', { token: ref('Token') }))
const organisationReply = json(object('`{ organisation }`', { organisation: ref('Organisation') }))
const communityReply = json(object('`{ community }`', { community: ref('Community') }))

/** Every route of the server but the console's static files, keyed `METHOD /path` (OpenAPI path templates). */
const ROUTES: Record<string, Route> = {
  'GET /healthz': {
    summary: 'The process is up',
    tag: 'operations',
    access: 'public',
    replies: {
      200: {
        description: 'Up.',
        content: json(
          object('`{ status: "ok", version, commit, protocolVersion }`', {
            status: { const: 'ok' },
            version: string("The product's version (the root package.json's `version`, as `info.version`)."),
            commit: string('The git commit it was built from (short hash), or `unknown`.'),
            protocolVersion: integer('PROTOCOL_VERSION: what a socket handshake may send as `auth.protocolVersion`', 1),
          }),
        ),
      },
    },
  },
  'GET /readyz': {
    summary: 'The store is reachable',
    tag: 'operations',
    access: 'public',
    description:
      '503 `unavailable` with `details.reason`: `draining` from the start of a graceful stop (SIGTERM) until the process exits, or `store_unreachable`.',
    replies: {
      200: {
        description: 'Ready.',
        content: json(
          object('`{ status: "ready", store }`', {
            status: { const: 'ready' },
            store: { enum: ['sqlite', 'postgres'] },
          }),
        ),
      },
    },
    errors: ['unavailable'],
  },
  'GET /metrics': {
    summary: 'Prometheus metrics of this process',
    tag: 'operations',
    access: 'metrics',
    description: 'Only `Authorization: Bearer <WATCHFLOOR_METRICS_TOKEN>` when that is set; else signed-in admins.',
    replies: {
      200: {
        description: 'Prometheus text format 0.0.4.',
        content: { 'text/plain': string('Prometheus exposition format 0.0.4') },
      },
    },
    errors: ['forbidden'],
  },
  'GET /api/v1/openapi.json': {
    summary: 'This document',
    tag: 'operations',
    access: 'public',
    description: 'Public: it describes the API and holds no data.',
    replies: { 200: { description: 'The OpenAPI 3.1 document.', content: json(object('An OpenAPI 3.1 document.')) } },
  },

  // people and access (access/routes.ts)
  'POST /api/v1/session': {
    summary: 'Sign in',
    tag: 'access',
    access: 'public',
    body: serverBody('`{ username, password }`', 'apps/server/src/access/routes.ts (SignIn)'),
    replies: {
      200: { description: 'Signed in: sets the `watchfloor_session` cookie.', content: json(ref('SessionReply')) },
    },
    errors: ['validation', 'unauthenticated', 'too_large', 'too_many_requests'],
  },
  'DELETE /api/v1/session': {
    summary: 'Sign out',
    tag: 'access',
    access: 'public',
    replies: { 204: { description: 'Signed out (also without a valid session); the cookie is cleared.' } },
    errors: ['forbidden'],
  },
  'GET /api/v1/session': {
    summary: 'Who the caller is',
    tag: 'access',
    replies: { 200: { description: 'The caller.', content: json(ref('SessionReply')) } },
  },
  'GET /api/v1/accounts': {
    summary: 'Every account (admin)',
    tag: 'access',
    replies: {
      200: {
        description: '`{ accounts }` by username.',
        content: json(object('`{ accounts }`', { accounts: array(ref('Account')) })),
      },
    },
    errors: ['forbidden'],
  },
  'POST /api/v1/accounts': {
    summary: 'Make an account (admin)',
    tag: 'access',
    body: serverBody(
      '`{ username, displayName?, organisation, nation?, roles, password, disabled? }`',
      'apps/server/src/access/routes.ts',
    ),
    replies: { 201: { description: 'Made.', content: accountReply } },
    errors: ['validation', 'forbidden', 'conflict'],
  },
  'PATCH /api/v1/accounts/{username}': {
    summary: 'Change an account (admin)',
    tag: 'access',
    body: serverBody('any of `{ roles, disabled, password, displayName }`', 'apps/server/src/access/routes.ts'),
    replies: { 200: { description: 'Changed.', content: accountReply } },
    errors: ['validation', 'forbidden', 'not_found', 'conflict'],
  },
  'GET /api/v1/tokens': {
    summary: "Tokens: an admin's every one (`?owner=`), anyone else's own API tokens",
    tag: 'access',
    query: [{ name: 'owner', description: "An admin: one account's tokens.", schema: string() }],
    replies: {
      200: {
        description: '`{ tokens }`, oldest first.',
        content: json(object('`{ tokens }`', { tokens: array(ref('Token')) })),
      },
    },
    errors: ['validation', 'forbidden'],
  },
  'POST /api/v1/tokens': {
    summary: 'Make an API or display token',
    tag: 'access',
    body: serverBody(
      '`{ label, kind?, owner?, service?, preset?, tlpCeiling?, expiresAt? }`',
      'apps/server/src/access/routes.ts',
    ),
    replies: {
      201: {
        description: 'Made; the secret is shown this once.',
        content: json(
          object('`{ token, secret }`', { token: ref('Token'), secret: string('`wf_` and 43 characters') }),
        ),
      },
    },
    // conflict: a service identity's user id another organisation's principal has
    errors: ['validation', 'forbidden', 'not_found', 'conflict'],
  },
  'DELETE /api/v1/tokens/{id}': {
    summary: 'Revoke a token',
    tag: 'access',
    replies: { 200: { description: 'Revoked (`revokedAt` set).', content: tokenReply } },
    errors: ['forbidden', 'not_found'],
  },

  // the directory (access/directoryRoutes.ts)
  'GET /api/v1/directory': {
    summary: 'Organisations and the communities the caller may know',
    tag: 'directory',
    replies: {
      200: {
        description: '`{ organisations, communities }` by id.',
        content: json(
          object('`{ organisations, communities }`', {
            organisations: array(ref('Organisation')),
            communities: array(ref('Community')),
          }),
        ),
      },
    },
  },
  // the people directory (access/peopleDirectory.ts)
  'GET /api/v1/people': {
    summary: 'The people and teams the caller may assign tasks to or mention',
    tag: 'directory',
    replies: {
      200: {
        description:
          "`{ people, teams, communities?, may }`: the persons of the caller's own organisation (accounts and static tokens, enabled, not sensors) when it may mention or assign, and the teams (the directory's organisations and its own) when it may assign; never another organisation's accounts. A display token or a caller viewing as another audience gets empty lists.",
        content: json(
          object('`{ people, teams, may }`', {
            people: array(
              object('`{ userId, displayName, organisation }`', {
                userId: string('The user id a task assignee or a mention names.'),
                displayName: string(),
                organisation: string(),
              }),
            ),
            teams: array(
              object('`{ organisation, name, nation?, communities? }`', {
                organisation: string('The organisation a team assignee names.'),
                name: string(),
                nation: string("The organisation's nation, as the directory says."),
                communities: array(
                  string(),
                  'The communities it shares with the caller (never another community): with its nation, what the console judges a marking reaches by (C19).',
                ),
              }),
            ),
            communities: array(string(), "The caller's own communities, when it may assign."),
            may: object("`{ assign, mention }`: what core's policy lets the caller do with them", {
              assign: { type: 'boolean' },
              mention: { type: 'boolean' },
            }),
          }),
        ),
      },
    },
  },
  'POST /api/v1/directory/organisations': {
    summary: 'Add an organisation (admin)',
    tag: 'directory',
    body: serverBody('`{ id, name, nation, kind }`', 'apps/server/src/access/directoryRoutes.ts (NewOrganisationBody)'),
    replies: { 201: { description: 'Added.', content: organisationReply } },
    errors: ['validation', 'forbidden', 'conflict'],
  },
  'PATCH /api/v1/directory/organisations/{id}': {
    summary: 'Change an organisation (admin)',
    tag: 'directory',
    body: serverBody('any of `{ name, nation, kind }`', 'apps/server/src/access/directoryRoutes.ts'),
    replies: { 200: { description: 'Changed.', content: organisationReply } },
    errors: ['validation', 'forbidden', 'not_found'],
  },
  'DELETE /api/v1/directory/organisations/{id}': {
    summary: 'Remove an organisation (admin)',
    tag: 'directory',
    replies: { 204: { description: 'Removed.' } },
    errors: ['forbidden', 'not_found', 'conflict'],
  },
  'POST /api/v1/directory/communities': {
    summary: 'Add a community (admin)',
    tag: 'directory',
    body: serverBody('`{ id, name, members? }`', 'apps/server/src/access/directoryRoutes.ts (NewCommunityBody)'),
    replies: { 201: { description: 'Added.', content: communityReply } },
    errors: ['validation', 'forbidden', 'not_found', 'conflict'],
  },
  'PATCH /api/v1/directory/communities/{id}': {
    summary: 'Change a community (admin)',
    tag: 'directory',
    body: serverBody('any of `{ name, members }`', 'apps/server/src/access/directoryRoutes.ts'),
    replies: { 200: { description: 'Changed.', content: communityReply } },
    errors: ['validation', 'forbidden', 'not_found'],
  },
  'DELETE /api/v1/directory/communities/{id}': {
    summary: 'Remove a community (admin)',
    tag: 'directory',
    replies: { 204: { description: 'Removed.' } },
    errors: ['forbidden', 'not_found'],
  },

  // partner feeds (feeds/routes.ts)
  'GET /api/v1/feeds': {
    summary: 'The partner feeds the caller may read',
    tag: 'feeds',
    replies: { 200: { description: '`{ feeds }`', content: json(ref('FeedsReply')) } },
    errors: ['forbidden'],
  },
  'GET /api/v1/feeds/out': {
    summary: 'Who pulled what from this floor (TAXII, MISP feed)',
    tag: 'feeds',
    replies: { 200: { description: '`{ activity }`', content: json(ref('FeedsOutReply')) } },
    errors: ['forbidden'],
  },
  'GET /api/v1/feeds/{id}': {
    summary: 'One partner feed',
    tag: 'feeds',
    replies: { 200: { description: '`{ feed }`', content: json(ref('OneFeedReply')) } },
    errors: ['forbidden', 'not_found'],
  },
  'POST /api/v1/feeds': {
    summary: 'Add a partner feed (admin)',
    tag: 'feeds',
    body: serverBody(
      '`{ id, label, url, apiRoot, collectionId, organisation, auth?, pollSeconds?, defaultTlp?, enabled? }`',
      'apps/server/src/feeds/routes.ts',
    ),
    replies: { 201: { description: 'Added.', content: json(ref('OneFeedReply')) } },
    errors: ['validation', 'forbidden', 'conflict'],
  },
  'PATCH /api/v1/feeds/{id}': {
    summary: 'Change a partner feed (admin)',
    tag: 'feeds',
    body: serverBody('any field of a feed but `id` and `organisation`', 'apps/server/src/feeds/routes.ts'),
    replies: { 200: { description: 'Changed.', content: json(ref('OneFeedReply')) } },
    errors: ['validation', 'forbidden', 'not_found'],
  },
  'DELETE /api/v1/feeds/{id}': {
    summary: 'Remove a partner feed (admin)',
    tag: 'feeds',
    replies: { 204: { description: 'Removed; what it imported stays.' } },
    errors: ['forbidden', 'not_found'],
  },
  'POST /api/v1/feeds/{id}/poll': {
    summary: 'Poll a partner feed now (admin)',
    tag: 'feeds',
    replies: { 200: { description: 'Polled.', content: json(ref('PollReply')) } },
    errors: ['forbidden', 'not_found', 'conflict', 'unavailable'],
  },

  // the log: ingest, reads, imports, commands
  'POST /api/v1/events': {
    summary: 'Post events',
    tag: 'events',
    body: {
      description: 'One event, or `{ events: [...] }` with 1 to 1,000 events; appended all or nothing.',
      required: true,
      content: json({
        oneOf: [
          ref('EventInput'),
          {
            type: 'object',
            properties: { events: { type: 'array', items: ref('EventInput'), minItems: 1, maxItems: 1000 } },
            required: ['events'],
            additionalProperties: false,
          },
        ],
      }),
    },
    replies: {
      200: { description: 'Every event was in the log already.', content: json(ref('IngestReply')) },
      201: { description: 'Appended.', content: json(ref('IngestReply')) },
    },
    errors: ['validation', 'forbidden', 'conflict', 'too_large'],
  },
  'GET /api/v1/events': {
    summary: "The caller's events after a seq, or in a window",
    tag: 'events',
    query: [
      { name: 'after', description: 'Seq to continue after.', schema: { type: 'integer', minimum: 0, default: 0 } },
      {
        name: 'limit',
        description: 'At most this many events.',
        schema: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
      },
      ...window,
    ],
    replies: {
      200: {
        description: '`{ events, next, head }`',
        content: json(
          object('`{ events, next, head }`', {
            events: array(ref('StoredEvent')),
            next: integer('Pass as `after` to continue.'),
            head: integer("The caller's own head (D14)."),
          }),
        ),
      },
    },
    errors: ['validation', 'not_found', 'forbidden'],
  },
  'GET /api/v1/state': {
    summary: "The caller's picture, now or (`at`) in the past",
    tag: 'events',
    query: [
      { name: 'at', description: 'Replay: the picture at this moment.', schema: dateTime },
      window[2]!,
      {
        name: 'scope',
        description:
          '`all` (the default): the whole picture. `live`: the live picture (open incidents, closed ones active since `since`, incidents with a task not done, their links, tasks and comments, advisories since `since`), with `omitted`: what it leaves out, counted, and a hash of each id (docs/api.md). Not with `at`.',
        schema: { type: 'string', enum: ['all', 'live'], default: 'all' },
      },
      {
        name: 'since',
        description:
          'With `scope=live`: keep closed incidents and advisories from this time on (default: 7 days before the newest event).',
        schema: dateTime,
      },
      {
        name: 'include',
        description:
          'With `scope=live`: an incident, task or advisory id to keep whatever its age, one per parameter (repeated, up to 200); ids the caller may not see are ignored.',
        schema: { type: 'array', items: { type: 'string' }, maxItems: 200 },
      },
    ],
    replies: { 200: stateReply },
    errors: ['validation', 'not_found', 'forbidden'],
  },
  'GET /api/v1/export': {
    summary: "Download the caller's events (JSON, CSV, STIX 2.1, MISP)",
    tag: 'events',
    query: [
      {
        name: 'format',
        description: 'The file format.',
        schema: { type: 'string', enum: ['json', 'csv', 'stix', 'misp'], default: 'json' },
      },
      ...window,
      { name: 'incidentId', description: 'Only the events about this incident (needed for `misp`).', schema: string() },
    ],
    replies: {
      200: {
        description: 'A download, streamed page by page.',
        headers: {
          'Content-Disposition': '`attachment; filename="watchfloor-...-to-seq-N.<format>"`',
          'X-Watchfloor-Head': "The caller's head when the request arrived: the export covers the events up to it.",
          'X-Watchfloor-Marking':
            "The export's own marking, the strictest of what it holds: `TLP:AMBER` or `TLP:AMBER; PAP:GREEN` (`TLP:CLEAR` when empty).",
        },
        content: {
          'application/json': {
            description: '`format=json`: the envelopes, one per line; `format=misp`: one MISP event `{ Event }`.',
            oneOf: [
              array(ref('StoredEvent')),
              object('One MISP event `{ Event }`.', { Event: object('The MISP event.') }),
            ],
          },
          'text/csv': string('`format=csv`: RFC 4180, one row per event; the columns are in docs/api.md.'),
          'application/stix+json;version=2.1': stixBundle,
        },
      },
    },
    errors: ['validation', 'forbidden', 'not_found'],
  },
  'GET /api/v1/handover': {
    summary: 'The shift-handover brief',
    tag: 'events',
    query: [
      { name: 'since', description: 'Start of the shift (default 12 hours before `until`).', schema: dateTime },
      { name: 'until', description: 'End of the shift (default now).', schema: dateTime },
      {
        name: 'format',
        description: 'JSON or Markdown (also by `Accept: text/markdown`).',
        schema: { type: 'string', enum: ['json', 'markdown'], default: 'json' },
      },
    ],
    replies: {
      200: {
        description: 'The brief.',
        content: {
          'application/json': object('The brief (apps/server/src/read/handover.ts); docs/api.md shows it.'),
          'text/markdown': string('The brief as a Markdown document.'),
        },
      },
    },
    errors: ['validation', 'not_found', 'forbidden'],
  },
  'POST /api/v1/import/stix': {
    summary: 'Import a STIX 2.1 bundle',
    tag: 'imports',
    query: [
      {
        name: 'defaultTlp',
        description: 'The marking of unmarked objects.',
        schema: { type: 'string', enum: [...TLP_LEVELS], default: 'AMBER' },
      },
    ],
    body: {
      description: 'A STIX 2.1 bundle, up to 10 MB.',
      required: true,
      content: { 'application/stix+json': stixBundle, 'application/json': stixBundle },
    },
    replies: {
      200: {
        description: 'What could be taken, skipped, defaulted and refused.',
        content: json(ref('StixImportReply')),
      },
    },
    errors: ['validation', 'forbidden', 'too_large'],
  },
  'POST /api/v1/import/misp': {
    summary: 'Import MISP JSON',
    tag: 'imports',
    query: [
      {
        name: 'defaultTlp',
        description: 'The marking of unmarked objects.',
        schema: { type: 'string', enum: [...TLP_LEVELS], default: 'AMBER' },
      },
    ],
    body: { description: 'MISP JSON, up to 10 MB.', required: true, content: json(mispDocument) },
    replies: {
      200: {
        description: 'What could be taken, skipped, defaulted and refused.',
        content: json(ref('MispImportReply')),
      },
    },
    errors: ['validation', 'forbidden', 'too_large'],
  },
  'POST /api/v1/commands': {
    summary: 'A coordination command',
    tag: 'coordination',
    body: {
      description:
        'One command, flat: `{ type, expectedVersion?, commandId?, ...fields }`; `commandId` makes a retry of the same action apply once.',
      required: true,
      content: json(ref('Command')),
    },
    replies: {
      200: {
        description: "Accepted: the stored events and the target's version (C5).",
        content: json(
          object('`{ events, version }`', {
            events: array(ref('StoredEvent')),
            version: integer("The target's version."),
          }),
        ),
      },
    },
    errors: ['validation', 'forbidden', 'not_found', 'conflict', 'too_large'],
  },
  'GET /api/v1/wall/presets': {
    summary: 'The wall presets the caller may use',
    tag: 'wall',
    replies: {
      200: {
        description: '`{ presets }`',
        content: json(object('`{ presets }`', { presets: array(ref('WallPreset')) })),
      },
    },
  },
  'GET /api/v1/wall/presets/{name}': {
    summary: 'One wall preset',
    tag: 'wall',
    replies: { 200: { description: 'The preset.', content: json(ref('WallPreset')) } },
    errors: ['forbidden', 'not_found'],
  },

  // Watchfloor as a MISP feed (read/misp.ts)
  'GET /misp/feed/{file}': {
    summary: 'The MISP feed: `manifest.json`, `hashes.csv`, `<uuid>.json`',
    tag: 'misp feed',
    replies: {
      200: {
        description: 'The manifest, the hashes or one MISP event, of what the caller may see.',
        content: {
          'application/json': object('`manifest.json` (uuid to event summary) or `<uuid>.json` (`{ Event }`).'),
          'text/csv': string('`hashes.csv`: `md5(value),uuid` per attribute.'),
        },
      },
    },
    errors: ['not_found'],
  },

  // TAXII 2.1 (taxii/taxiiRouter.ts); errors are TAXII error messages, not the error family
  'GET /taxii2/': {
    summary: 'TAXII 2.1 discovery',
    tag: 'taxii',
    access: 'taxii',
    replies: { 200: { description: 'The discovery resource.', content: taxii('discovery resource') } },
  },
  'GET /taxii2/api/': {
    summary: 'TAXII 2.1 API root',
    tag: 'taxii',
    access: 'taxii',
    replies: { 200: { description: 'The API root resource.', content: taxii('API root resource') } },
  },
  'GET /taxii2/api/status/{statusId}/': {
    summary: 'TAXII 2.1 status of an add',
    tag: 'taxii',
    access: 'taxii',
    replies: { 200: { description: 'The status resource.', content: taxii('status resource') } },
  },
  'GET /taxii2/api/collections/': {
    summary: 'TAXII 2.1 collections',
    tag: 'taxii',
    access: 'taxii',
    replies: { 200: { description: 'The collections resource.', content: taxii('collections resource') } },
  },
  'GET /taxii2/api/collections/{collectionId}/': {
    summary: 'TAXII 2.1 collection',
    tag: 'taxii',
    access: 'taxii',
    replies: { 200: { description: 'The collection resource.', content: taxii('collection resource') } },
  },
  'GET /taxii2/api/collections/{collectionId}/manifest/': {
    summary: 'TAXII 2.1 manifest',
    tag: 'taxii',
    access: 'taxii',
    query: taxiiFilters('id', 'type', 'version', 'spec_version'),
    replies: { 200: { description: 'The manifest resource.', content: taxii('manifest resource') } },
  },
  'GET /taxii2/api/collections/{collectionId}/objects/': {
    summary: 'TAXII 2.1 objects',
    tag: 'taxii',
    access: 'taxii',
    query: taxiiFilters('id', 'type', 'version', 'spec_version'),
    replies: { 200: { description: 'An envelope of STIX objects.', content: taxii('envelope') } },
  },
  'POST /taxii2/api/collections/{collectionId}/objects/': {
    summary: 'TAXII 2.1 add objects',
    tag: 'taxii',
    access: 'taxii',
    body: { description: 'An envelope of STIX 2.1 objects.', required: true, content: taxii('envelope') },
    replies: { 202: { description: 'The status resource of the add.', content: taxii('status resource') } },
  },
  'GET /taxii2/api/collections/{collectionId}/objects/{objectId}/': {
    summary: 'TAXII 2.1 one object',
    tag: 'taxii',
    access: 'taxii',
    query: taxiiFilters('version', 'spec_version'),
    replies: { 200: { description: 'An envelope of the object.', content: taxii('envelope') } },
  },
  'GET /taxii2/api/collections/{collectionId}/objects/{objectId}/versions/': {
    summary: "TAXII 2.1 an object's versions",
    tag: 'taxii',
    access: 'taxii',
    query: taxiiFilters('spec_version'),
    replies: { 200: { description: 'The versions resource.', content: taxii('versions resource') } },
  },
}

/** Statuses a TAXII endpoint may answer with besides its success (TAXII 2.1, 3.6). */
const TAXII_ERRORS: Record<number, string> = {
  400: 'Bad request (a filter, a body).',
  401: 'No, or an unknown, revoked or expired, token.',
  403: 'The token may not do this (read-only, no posting role).',
  404: 'No such collection, object or status the caller may see.',
  406: `The Accept header does not include ${TAXII_MEDIA_TYPE}.`,
  413: 'The body is over max_content_length.',
  415: `The Content-Type is not ${TAXII_MEDIA_TYPE}.`,
  422: 'The body is not a TAXII envelope of STIX 2.1 objects.',
}
/** The statuses only an add (`POST .../objects/`) answers with. */
const TAXII_ADD_ONLY = new Set(['413', '415', '422'])

const ERROR_DESCRIPTIONS: Record<ErrorCode, string> = {
  validation: '`validation`: bad input; `details.issues` lists `{ path, message }`.',
  unauthenticated: '`unauthenticated`: no credential, or an unknown, revoked or expired one.',
  forbidden: '`forbidden`: the caller may not (`details.rule`); a display token or a view changing anything.',
  not_found: '`not_found`: no such thing, or one the caller may not see.',
  conflict: '`conflict`: taken, reused or stale (`current` on a stale command).',
  too_large: '`too_large`: a body over its limit.',
  too_many_requests: '`too_many_requests`: wait `Retry-After` seconds.',
  unavailable: '`unavailable`: the store (or a partner) cannot be reached.',
  internal: '`internal`: a fault of the server.',
  protocol_mismatch: '`protocol_mismatch`: a socket handshake of another protocol version (never an HTTP answer).',
}

/** Component schemas from the protocol's zod schemas: requests as they are read (input), replies as they are sent (output). */
function protocolSchemas(): Record<string, JsonSchema> {
  const generate = (
    io: 'input' | 'output',
    schemas: Record<string, [z.ZodType, string]>,
  ): Record<string, JsonSchema> => {
    const registry = z.registry<{ id: string }>()
    for (const [id, [schema]] of Object.entries(schemas)) registry.add(schema, { id })
    const { schemas: out } = z.toJSONSchema(registry, {
      target: 'draft-2020-12',
      io,
      uri: (id) => `#/components/schemas/${id}`,
    })
    // a component is embedded in this document: no `$id` of its own, the dialect is the document's;
    // the description is ours unless the schema has one (`.meta()` in the protocol)
    return Object.fromEntries(
      Object.entries(out).map(([id, { $id: _id, $schema: _schema, ...schema }]) => [
        id,
        { description: schemas[id]?.[1], ...schema } as JsonSchema,
      ]),
    )
  }
  return {
    ...generate('input', {
      EventInput: [EventInput, 'An event as a sender posts it: one variant per `type` (docs/events.md).'],
      Command: [
        Command,
        'A coordination command, flat: `{ type, expectedVersion?, commandId?, ...fields }` (rules C1-C17).',
      ],
      SubscribeRequest: [SubscribeRequest, 'Socket `subscribe`: stream the events after this seq.'],
      ViewingRequest: [ViewingRequest, 'Socket `viewing`: the incident on screen (`null`: none).'],
    }),
    ...generate('output', {
      ErrorReply: [
        ErrorReplySchema,
        'Every refusal: `{ error: { code, message, details? } }`, `current` on a stale command.',
      ],
      StoredEvent: [
        StoredEvent,
        'An event as stored: an `EventInput` with `marking` filled in, `actor` set by the server, `recordedAt` and `seq`; one variant per `type`.',
      ],
      SessionReply: [SessionReply, 'Who the server says the caller is.'],
      FeedReply: [FeedReply, 'A partner feed pulled in, with its state (null before the first poll).'],
      FeedsReply: [FeedsReply, 'The partner feeds the caller may read.'],
      OneFeedReply: [OneFeedReply, 'One partner feed.'],
      PollReply: [PollReply, 'What one poll did, and the feed with its state since.'],
      FeedsOutReply: [FeedsOutReply, 'Pulls from this floor, per organisation and channel.'],
      WallPreset: [WallPreset, 'A wall preset (docs/wall.md).'],
      IngestReply: [IngestReply, '`{ results }`, one per event posted, in order: `{ id, seq, duplicate }`.'],
      Account: [AccountJson, 'An account (never a password nor its hash).'],
      Token: [TokenJson, 'An API or display token (never the secret nor its hash).'],
      Organisation: [OrganisationJson, 'An organisation of the directory.'],
      Community: [CommunityJson, 'A community of the directory: organisations that share by it.'],
      StixImportReply: [
        StixImportReply,
        'What a STIX bundle became, what served, what was left out, and what the log took.',
      ],
      MispImportReply: [MispImportReply, 'What MISP events became, what was left out, and what the log took.'],
    }),
  }
}

/**
 * Shapes the protocol has as TypeScript types only: described, not re-invented. The picture is core's
 * `stateToJson` (its own format, versioned by `STATE_FORMAT_VERSION`).
 */
const DESCRIBED_SCHEMAS: Record<string, JsonSchema> = {
  State: object(
    '`stateToJson` of packages/core: `{ seq, eventCount, networks, incidents, advisories, ..., recent }`.',
    {
      seq: integer("The last event folded in: the caller's own head (D14)."),
      eventCount: integer('Events folded in.'),
      recent: array(ref('StoredEvent'), 'The last 200 events.'),
    },
  ),
}

function headersOf(headers: Record<string, string>): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
  )
}

const PARAMETER_EXAMPLES: Record<string, string> = {
  username: 'kadri',
  id: 'cert-ee',
  name: 'overview',
  file: 'manifest.json',
  statusId: '00000000-0000-4000-8000-000000000000',
  collectionId: 'all',
  objectId: 'incident--00000000-0000-4000-8000-000000000000',
}

function operation(key: string, route: Route): JsonSchema {
  const path = key.slice(key.indexOf(' ') + 1)
  const access = route.access ?? 'caller'
  const responses: Record<string, JsonSchema> = {}
  for (const [status, reply] of Object.entries(route.replies))
    responses[status] = {
      description: reply.description,
      ...(reply.headers === undefined ? {} : { headers: headersOf(reply.headers) }),
      ...(reply.content === undefined
        ? {}
        : { content: Object.fromEntries(Object.entries(reply.content).map(([type, schema]) => [type, { schema }])) }),
    }
  if (access === 'taxii') {
    const taxiiError = { [TAXII_MEDIA_TYPE]: { schema: ref('TaxiiError') } }
    for (const [status, description] of Object.entries(TAXII_ERRORS))
      if (!TAXII_ADD_ONLY.has(status) || key.startsWith('POST '))
        responses[status] = { description, content: taxiiError }
  } else {
    const codes = new Set(route.errors ?? [])
    // every caller: authenticate() refuses a bad credential (401), and a display token, a view or a
    // cookie without JSON changing anything (403); a bad or unknown X-Watchfloor-View-As is 400 or 404
    if (access === 'caller')
      for (const code of ['unauthenticated', 'forbidden', 'validation', 'not_found'] as const) codes.add(code)
    if (access === 'metrics') codes.add('unauthenticated')
    for (const code of codes) {
      const status = String(httpStatus(code))
      const before = (responses[status]?.description as string | undefined) ?? ''
      responses[status] = {
        description: before === '' ? ERROR_DESCRIPTIONS[code] : `${before} ${ERROR_DESCRIPTIONS[code]}`,
        ...(code === 'too_many_requests' ? { headers: headersOf({ 'Retry-After': 'Seconds to wait.' }) } : {}),
        content: { 'application/json': { schema: ref('ErrorReply') } },
      }
    }
  }
  const parameters = [
    ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
      example: PARAMETER_EXAMPLES[name!] ?? 'x',
    })),
    ...(route.query ?? []).map((q) => ({ name: q.name, in: 'query', description: q.description, schema: q.schema })),
    // reads only: a view changes nothing (a write with the header is 403, A7)
    ...((access === 'caller' || access === 'taxii') && key.startsWith('GET ')
      ? [{ $ref: '#/components/parameters/ViewAs' }]
      : []),
  ]
  const security =
    access === 'public'
      ? []
      : access === 'metrics'
        ? [{ metricsToken: [] }, { bearerToken: [] }, { sessionCookie: [] }]
        : access === 'taxii'
          ? [{ bearerToken: [] }, { taxiiBasic: [] }]
          : undefined
  return {
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.tag],
    operationId: operationId(key),
    ...(security === undefined ? {} : { security }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            description: route.body.description,
            required: route.body.required ?? true,
            content: Object.fromEntries(Object.entries(route.body.content).map(([type, schema]) => [type, { schema }])),
          },
        }),
    responses,
  }
}

/** `POST /api/v1/feeds/{id}/poll` → `postApiV1FeedsIdPoll`. */
function operationId(key: string): string {
  const words = key
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '')
  return words.map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('')
}

/** A route of the API as a request's path matches it, with the query parameters it takes. */
interface QueryRule {
  method: string
  key: string
  pattern: RegExp
  /** How many `{…}` parts: a literal path (`/feeds/out`) wins over a template (`/feeds/{id}`). */
  templates: number
  names: readonly string[]
}

let queryRules: QueryRule[] | undefined

/**
 * The query parameters a route of `/api/v1` takes, as this document lists them: one list, read by
 * the server to refuse any other parameter (`refuseUndocumentedQuery` in http/app.ts) and published
 * as the route's `parameters`. Undefined for a path no route of `/api/v1` has (a 404 follows).
 */
export function queryParametersOf(
  method: string,
  path: string,
): { route: string; names: readonly string[] } | undefined {
  queryRules ??= Object.entries(ROUTES)
    .filter(([key]) => key.includes(' /api/v1/'))
    .map(([key, route]) => {
      const [routeMethod, template] = key.split(' ') as [string, string]
      const source = template
        .split(/\{\w+\}/)
        .map((literal) => literal.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
        .join('[^/]+')
      return {
        method: routeMethod,
        key,
        pattern: new RegExp(`^${source}/?$`, 'i'),
        templates: (template.match(/\{\w+\}/g) ?? []).length,
        names: (route.query ?? []).map((q) => q.name),
      }
    })
    .sort((a, b) => a.templates - b.templates)
  const asked = method === 'HEAD' ? 'GET' : method
  const rule = queryRules.find((r) => r.method === asked && r.pattern.test(path))
  return rule === undefined ? undefined : { route: rule.key, names: rule.names }
}

let built: JsonSchema | undefined

/** The OpenAPI 3.1 document (built once: it depends on nothing but the code). */
export function openApiDocument(): JsonSchema {
  if (built !== undefined) return built
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const [key, route] of Object.entries(ROUTES)) {
    const [method, path] = key.split(' ') as [Uppercase<Method>, string]
    paths[path] ??= {}
    paths[path][method.toLowerCase()] = operation(key, route)
  }
  built = {
    openapi: '3.1.0',
    info: {
      title: 'Watchfloor',
      version: RELEASE.version,
      description: `The REST API of a Watchfloor server (docs/api.md), its MISP feed and its TAXII 2.1 server. \`version\` is the product's version; the protocol's (\`PROTOCOL_VERSION\`, sent in the socket handshake) is ${PROTOCOL_VERSION}, also in \`x-protocol-version\` and \`GET /healthz\`. Any route may also answer 500 (\`internal\`) and 503 (\`unavailable\`: the store cannot be reached). The live stream is Socket.IO, documented in docs/api.md.`,
      'x-protocol-version': PROTOCOL_VERSION,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(Object.values(ROUTES).map((route) => route.tag))].map((name) => ({ name })),
    security: [{ bearerToken: [] }, { sessionCookie: [] }],
    paths,
    components: {
      parameters: {
        ViewAs: {
          name: 'X-Watchfloor-View-As',
          in: 'header',
          required: false,
          description:
            'A coordinator or an admin (A7): read as `organisation:<id>` or `community:<id>` would receive it (V11); read-only.',
          schema: { type: 'string', pattern: '^(organisation|community):.+$' },
        },
      },
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A static token (`WATCHFLOOR_TOKENS`), an API token or a display token (read-only).',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'watchfloor_session',
          description: 'A signed-in person. Requests other than GET need `Content-Type: application/json` (CSRF).',
        },
        taxiiBasic: {
          type: 'http',
          scheme: 'basic',
          description:
            'TAXII only: HTTP Basic with an API token as the password (or as the username with no password).',
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: '`WATCHFLOOR_METRICS_TOKEN`, for `GET /metrics` only.',
        },
      },
      schemas: {
        ...protocolSchemas(),
        ...DESCRIBED_SCHEMAS,
        TaxiiError: {
          ...object('A TAXII 2.1 error message (apps/server/src/taxii/TaxiiError.ts).', {
            title: string(),
            description: string(),
            http_status: string('The status, as a string.'),
            error_code: string("The error family's code, when the error is one of ours."),
            details: { description: 'As `details` of the error family.' },
          }),
          required: ['title'],
        },
      },
    },
  }
  return built
}

// ---------------------------------------------------------------------------- the socket's messages

interface SocketRow {
  payload: string
  schema: string
  ack: string
}

/** A JSON Schema's shape in one line: `{ after: integer }`, `string | null`, a union's `type`s, `StoredEvent[]`. */
function shape(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').at(-1)!
  if (Array.isArray(schema.enum)) return schema.enum.join(' | ')
  if (schema.type === 'array' && typeof schema.items === 'object' && schema.items !== null)
    return `${shape(schema.items as JsonSchema)}[]`
  if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) {
    const options = (schema.oneOf ?? schema.anyOf) as JsonSchema[]
    const types = options.map((option) => (option.properties as Record<string, JsonSchema> | undefined)?.type?.const)
    if (types.every((type) => typeof type === 'string')) return `{ type: ${types.join(' | ')}, ...its fields }`
    return options.map(shape).join(' | ')
  }
  if (schema.type === 'object' && typeof schema.properties === 'object' && schema.properties !== null) {
    const required = new Set((schema.required as string[] | undefined) ?? [])
    const fields = Object.entries(schema.properties as Record<string, JsonSchema>).map(
      ([name, field]) => `${name}${required.has(name) ? '' : '?'}: ${shape(field)}`,
    )
    return `{ ${fields.join(', ')} }`
  }
  if (Array.isArray(schema.type)) return schema.type.join(' | ')
  if (typeof schema.type === 'string') return schema.type
  return 'unknown'
}

const inputShape = (schema: z.ZodType): string =>
  shape(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema)
const outputShape = (schema: z.ZodType): string =>
  shape(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }) as JsonSchema)

/**
 * The Socket.IO messages (packages/protocol/src/socket.ts) as a Markdown table, for docs/api.md
 * (apps/server/test/openapi.int.test.ts checks the docs hold exactly this), generated from their zod
 * schemas: what a client sends as the server reads it, what the server sends as `SERVER_MESSAGES`
 * describes it (a client's integration tests check every message a server sends against it).
 */
export function socketMessagesTable(): string {
  const client: Record<keyof ClientToServerEvents, SocketRow> = {
    subscribe: {
      payload: inputShape(SubscribeRequest),
      schema: 'SubscribeRequest',
      ack: '`SubscribeAck`: `{ ok: true, head }` or `{ ok: false, error }`',
    },
    command: {
      payload: inputShape(Command),
      schema: 'Command',
      ack: '`CommandAck`: `{ ok: true, events, version }` or `{ ok: false, error, current? }`',
    },
    viewing: {
      payload: inputShape(ViewingRequest),
      schema: 'ViewingRequest',
      ack: '`ViewingAck` (optional): `{ ok: true }` or `{ ok: false, error }`',
    },
  }
  const server = Object.fromEntries(
    Object.entries(SERVER_MESSAGES).map(([name, schema]) => [
      name,
      { payload: outputShape(schema), schema: `${name[0]!.toUpperCase()}${name.slice(1)}Message`, ack: '' },
    ]),
  ) as Record<keyof ServerToClientEvents, SocketRow>
  const cell = (text: string) => text.replaceAll('|', '\\|')
  const rows = [
    ...Object.entries(client).map(([name, row]) => ['client → server', name, row] as const),
    ...Object.entries(server).map(([name, row]) => ['server → client', name, row] as const),
  ].map(
    ([direction, name, row]) =>
      `| ${direction} | \`${name}\` | \`${cell(row.payload)}\` | \`${row.schema}\` | ${row.ack === '' ? '' : cell(row.ack)} |`,
  )
  return ['| direction | message | payload | type | ack |', '| --- | --- | --- | --- | --- |', ...rows].join('\n')
}
