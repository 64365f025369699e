import { exhaustiveSwitchError, type StoredEvent } from '@watchfloor/protocol'

function clip(text: string, max = 140): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/**
 * Names for the ids a summary would show: an incident's or a task's title, a person's name. Each
 * answers undefined for an id it does not know, which is then shown as it is.
 */
export interface SummaryNames {
  incident?(incidentId: string): string | undefined
  task?(taskId: string): string | undefined
  person?(userId: string): string | undefined
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
 * tasks and people it names are shown by title or name instead of by id (quoted titles).
 */
export function summarise(event: StoredEvent, names: SummaryNames = {}): string {
  const incident = (id: string) => {
    const title = names.incident?.(id)
    return title === undefined ? id : `"${title}"`
  }
  const task = (id: string) => {
    const title = names.task?.(id)
    return title === undefined ? id : `"${title}"`
  }
  const person = (id: string) => names.person?.(id) ?? id
  switch (event.type) {
    case 'network.registered': {
      const p = event.payload
      return clip(`Network ${p.name} (${p.networkId}) registered: ${p.kind}, ${p.organisation}, ${p.nation}`)
    }
    case 'network.posture_changed': {
      const p = event.payload
      return clip(`Network ${p.networkId} posture ${p.posture}${p.reason ? `: ${p.reason}` : ''}`)
    }
    case 'incident.reported': {
      const p = event.payload
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
      const count = p.count !== undefined && p.count > 1 ? ` ×${p.count}` : ''
      const where = p.networkId ? ` on ${p.networkId}` : ''
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
      return clip(`Incident ${incident(p.incidentId)}: network ${p.networkId} ${p.state}`)
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
