import { exhaustiveSwitchError, type Marking, type StoredEvent, type Tlp } from '@watchfloor/protocol'
import type { State } from './state.ts'
import { describeMarking, highestTlp } from './visibility.ts'

/** A summary's length in a list (the detail panel's history, a feed); a report shows it whole. */
const LINE_MAX = 140

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/**
 * Names for the ids a summary would show: an incident's or a task's title, a network's short name
 * (else its name), a person's name. Each answers undefined for an id it does not know, which is then
 * shown as it is.
 */
export interface SummaryNames {
  incident?(incidentId: string): string | undefined
  task?(taskId: string): string | undefined
  network?(networkId: string): string | undefined
  person?(userId: string): string | undefined
}

/**
 * A network as the product names it where room is short (a summary, a timeline lane, a board's row,
 * a wall's tile): its short name (`network.registered`'s `shortName`), else its name in full.
 */
export function networkName(network: { name: string; shortName?: string | undefined }): string {
  return network.shortName?.trim() || network.name
}

function by(event: StoredEvent, names: SummaryNames): string {
  return event.actor ? ` by ${names.person?.(event.actor.user) ?? event.actor.user}` : ''
}

/** The text a person gave with the action (a note, a reason), after a colon; nothing when none. */
function said(text: string | undefined): string {
  return text === undefined || text.trim() === '' ? '' : `: ${text}`
}

/**
 * A one-line, human summary of an event, from its payload alone; with `names`, the incidents,
 * tasks and people it names are shown by title or name instead of by id (quoted titles). Cut at
 * 140 characters with "…" for a list; `whole` keeps every word (a report, which keeps the notes and
 * reasons people gave).
 */
export function summarise(event: StoredEvent, names: SummaryNames = {}, options: { whole?: boolean } = {}): string {
  const clip = (text: string) => {
    const line = oneLine(text)
    return options.whole || line.length <= LINE_MAX ? line : `${line.slice(0, LINE_MAX - 1)}…`
  }
  const incident = (id: string) => {
    const title = names.incident?.(id)
    return title === undefined ? id : `"${title}"`
  }
  const task = (id: string) => {
    const title = names.task?.(id)
    return title === undefined ? id : `"${title}"`
  }
  const person = (id: string) => names.person?.(id) ?? id
  const network = (id: string) => names.network?.(id) ?? id
  switch (event.type) {
    case 'network.registered': {
      const p = event.payload
      return clip(`Network ${p.name} (${p.networkId}) registered: ${p.kind}, ${p.organisation}, ${p.nation}`)
    }
    case 'network.posture_changed': {
      const p = event.payload
      return clip(`Network ${network(p.networkId)} posture ${p.posture}${p.reason ? `: ${p.reason}` : ''}`)
    }
    case 'incident.reported': {
      const p = event.payload
      // [R15] a marking change: the incident said again, under a new marking
      if (p.restated !== undefined)
        return clip(`Incident "${p.title}" now marked ${describeMarking(event.marking)}${by(event, names)}`)
      const n = p.affectedNetworks.length
      return clip(`${p.severity.toUpperCase()} ${p.category}: ${p.title} (${n} network${n === 1 ? '' : 's'})`)
    }
    case 'incident.updated': {
      const p = event.payload
      const changes: string[] = []
      if (p.severity !== undefined) changes.push(`severity ${p.severity}`)
      if (p.status !== undefined) changes.push(`status ${p.status}`)
      if (p.category !== undefined) changes.push(`category ${p.category}`)
      if (p.affectedNetworks !== undefined) changes.push(`${p.affectedNetworks.length} affected networks`)
      if (p.summary !== undefined) changes.push('summary updated')
      return clip(`Incident ${incident(p.incidentId)}: ${changes.join(', ')}`)
    }
    case 'incident.observation': {
      const p = event.payload
      // its count field (what the sensor counted), in words: "×N" is a run's number of reports
      const count = p.count !== undefined && p.count > 1 ? ` (count ${p.count})` : ''
      const where = p.networkId ? ` on ${network(p.networkId)}` : ''
      const indicator = p.indicator ? `: ${p.indicator}` : ''
      return clip(`Observation${count} for ${incident(p.incidentId)}${where}${indicator}`)
    }
    case 'advisory.published': {
      const p = event.payload
      return clip(`Advisory ${p.advisoryId}: ${p.title}${p.incidentId ? ` (re ${incident(p.incidentId)})` : ''}`)
    }
    case 'incident.acknowledged': {
      const p = event.payload
      return clip(`Incident ${incident(p.incidentId)} acknowledged${by(event, names)}${said(p.note)}`)
    }
    case 'incident.escalated': {
      const p = event.payload
      return clip(`Incident ${incident(p.incidentId)} escalated to ${p.severity}: ${p.reason}`)
    }
    case 'incident.status_changed': {
      const p = event.payload
      return clip(`Incident ${incident(p.incidentId)} status ${p.status}${p.reason ? `: ${p.reason}` : ''}`)
    }
    case 'incident.linked': {
      const p = event.payload
      return clip(`Incident ${incident(p.incidentId)} ${p.relation.replace(/_/g, ' ')} ${incident(p.otherIncidentId)}`)
    }
    case 'incident.network_state_set': {
      const p = event.payload
      return clip(`Incident ${incident(p.incidentId)}: network ${network(p.networkId)} ${p.state}`)
    }
    case 'task.created': {
      const p = event.payload
      return names.task === undefined
        ? clip(`Task ${p.taskId} (${p.priority}) for ${incident(p.incidentId)}: ${p.title}`)
        : clip(`Task "${p.title}" (${p.priority}) for ${incident(p.incidentId)}`)
    }
    case 'task.assigned': {
      const a = event.payload.assignee
      return clip(
        `Task ${task(event.payload.taskId)} assigned to ${a.kind === 'user' ? person(a.userId) : a.organisation}`,
      )
    }
    case 'task.accepted':
    case 'task.started':
      return clip(`Task ${task(event.payload.taskId)} ${event.type.slice(5)}${by(event, names)}`)
    case 'task.completed':
      return clip(`Task ${task(event.payload.taskId)} completed${by(event, names)}${said(event.payload.note)}`)
    case 'task.reopened':
      return clip(`Task ${task(event.payload.taskId)} reopened${by(event, names)}${said(event.payload.reason)}`)
    case 'task.blocked':
      return clip(`Task ${task(event.payload.taskId)} blocked: ${event.payload.reason}`)
    case 'comment.posted':
      return clip(`Comment on ${incident(event.payload.incidentId)}${by(event, names)}: ${event.payload.body}`)
    case 'bookmark.saved':
      return clip(`Bookmark: ${event.payload.title}`)
    default:
      return exhaustiveSwitchError(event)
  }
}

/**
 * The incidents, tasks and networks `summarise(event, names)` shows by title or name when `names`
 * knows them: exactly the ids it asks `names` for (read from `summarise` itself, so the two cannot differ).
 */
export function summaryNamed(event: StoredEvent): { incidents: string[]; tasks: string[]; networks: string[] } {
  const incidents: string[] = []
  const tasks: string[] = []
  const networks: string[] = []
  summarise(event, {
    incident: (id) => void incidents.push(id),
    task: (id) => void tasks.push(id),
    network: (id) => void networks.push(id),
  })
  return { incidents, tasks, networks }
}

/** What summaries of some events name by title, and the markings those titles carry. */
export interface SummaryTitles {
  /** The title of each incident the summaries name (and the picture holds), by id. */
  incidents: ReadonlyMap<string, string>
  /** The title of each task they name, by id. */
  tasks: ReadonlyMap<string, string>
  /** The name of each network they name (`networkName`), by id. */
  networks: ReadonlyMap<string, string>
  /**
   * [M1] The `contentMarking` of each incident and task in `incidents` and `tasks`: its title is
   * its report's or a later change's, which may be stricter than the event naming it (a linked
   * incident re-reported AMBER under a new title); and the `marking` of each network in `networks`
   * (its name is a registration's). What shows the summaries counts these.
   */
  markings: Marking[]
}

/**
 * [M1] The titles and network names that summaries of `events` show from `picture`, and the markings
 * they carry: one answer for the words and the marking, so that what a view names it also marks.
 * Summarise the events with `titleNames(titles, person)`, which knows no other title or name.
 */
export function summaryTitles(
  picture: Pick<State, 'incidents' | 'tasks' | 'networks'>,
  events: Iterable<StoredEvent>,
): SummaryTitles {
  const incidents = new Map<string, string>()
  const tasks = new Map<string, string>()
  const networks = new Map<string, string>()
  const markings: Marking[] = []
  for (const event of events) {
    const named = summaryNamed(event)
    for (const id of named.incidents) {
      const incident = picture.incidents.get(id)
      if (incident === undefined || incidents.has(id)) continue
      incidents.set(id, incident.title)
      markings.push(incident.contentMarking)
    }
    for (const id of named.tasks) {
      const task = picture.tasks.get(id)
      if (task === undefined || tasks.has(id)) continue
      tasks.set(id, task.title)
      markings.push(task.contentMarking)
    }
    for (const id of named.networks) {
      const network = picture.networks.get(id)
      if (network === undefined || networks.has(id)) continue
      networks.set(id, networkName(network))
      markings.push(network.marking)
    }
  }
  return { incidents, tasks, networks, markings }
}

/** Names for `summarise` with exactly these titles (any other id stays an id), people by `person`. */
export function titleNames(titles: SummaryTitles, person?: SummaryNames['person']): SummaryNames {
  const names: SummaryNames = {
    incident: (id) => titles.incidents.get(id),
    task: (id) => titles.tasks.get(id),
    network: (id) => titles.networks.get(id),
  }
  if (person !== undefined) names.person = person
  return names
}

/**
 * [M1] One event's summary with titles and network names from `picture` (people by `person`), and
 * the TLP of a row showing it: the strictest of the event's and of each incident's and task's it
 * names by title (their `contentMarking`) and each network's it names (its `marking`).
 */
export function summaryLine(
  picture: Pick<State, 'incidents' | 'tasks' | 'networks'>,
  event: StoredEvent,
  person?: SummaryNames['person'],
): { text: string; whole: string; tlp: Tlp } {
  const titles = summaryTitles(picture, [event])
  const names = titleNames(titles, person)
  return {
    text: summarise(event, names),
    // the same line, never cut: what a list shows on demand (a tooltip)
    whole: summarise(event, names, { whole: true }),
    tlp: highestTlp([event.marking.tlp, ...titles.markings.map((marking) => marking.tlp)]),
  }
}
