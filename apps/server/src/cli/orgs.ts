import { parseOrThrow } from '@watchfloor/protocol'
import { NewOrganisationBody } from '../access/directoryRoutes.ts'
import { type Command, stringOption, table, UsageError } from './command.ts'

const JSON_OPTION = { json: { type: 'boolean' } } as const

const list: Command = {
  name: 'orgs list',
  summary: 'list the organisations of the directory',
  usage: 'orgs list [--json]',
  help: `Lists the organisations of the directory: id, nation, kind, name, and the communities each is a
member of. Accounts and tokens belong to one of them.

Options:
  --json   { "organisations": [...], "communities": [...] } on stdout`,
  options: JSON_OPTION,
  positionals: [0, 0],
  async run(args, context) {
    const credentials = await context.credentials({ write: false })
    const organisations = await credentials.listOrganisations()
    const communities = await credentials.listCommunities()
    if (args.values.json) {
      context.say(JSON.stringify({ organisations, communities }))
      return
    }
    const memberOf = (id: string) =>
      communities
        .filter((community) => community.members.includes(id))
        .map((community) => community.id)
        .join(',')
    context.say(
      table(
        ['ID', 'NATION', 'KIND', 'NAME', 'COMMUNITIES'],
        organisations.map((o) => [o.id, o.nation, o.kind, o.name, memberOf(o.id)]),
      ),
    )
  },
}

const create: Command = {
  name: 'orgs create',
  summary: 'add an organisation to the directory',
  usage: 'orgs create ID --name NAME --nation CODE --kind KIND [--json]',
  help: `Adds an organisation to the directory, with the same rules as POST
/api/v1/directory/organisations. A running server sees it at its next directory reload
(WATCHFLOOR_DIRECTORY_RELOAD_MS; at once on PostgreSQL).

Options:
  --name NAME      its name (required)
  --nation CODE    an ISO 3166 alpha-2 code (EE) or an alliance body id (ALLIANCE) (required)
  --kind KIND      ally_cert, partner_country, industry or alliance_body (required)
  --json           { "organisation": {...} } on stdout

Exit codes: 0 added; 1 refused (the id is taken, a malformed field); 2 bad usage.`,
  options: { name: { type: 'string' }, nation: { type: 'string' }, kind: { type: 'string' }, ...JSON_OPTION },
  positionals: [1, 1],
  async run(args, context) {
    for (const option of ['name', 'nation', 'kind'])
      if (stringOption(args, option) === undefined) throw new UsageError(`orgs create: --${option} is required`)
    const body = parseOrThrow(NewOrganisationBody, {
      id: args.positionals[0],
      name: stringOption(args, 'name'),
      nation: stringOption(args, 'nation'),
      kind: stringOption(args, 'kind'),
    })
    const organisation = await (await context.credentials({ write: true })).createOrganisation(body)
    if (args.values.json) context.say(JSON.stringify({ organisation }))
    else context.say(`organisation ${organisation.id} added (${organisation.nation}, ${organisation.kind})`)
  },
}

export const orgCommands: Command[] = [list, create]
