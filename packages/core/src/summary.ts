import { exhaustiveSwitchError, type StoredEvent } from '@watchfloor/protocol'

function clip(text: string, max = 140): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

function by(event: StoredEvent): string {
  return event.actor ? ` by ${event.actor.user}` : ''
}

/** A one-line, human summary of an event, from its payload alone. */
export function summarise(event: StoredEvent): string {
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
      return clip(`Incident ${p.incidentId}: ${changes.join(', ')}`)
    }
    case 'incident.observation': {
      const p = event.payload
      const count = p.count !== undefined && p.count > 1 ? ` ×${p.count}` : ''
      const where = p.networkId ? ` on ${p.networkId}` : ''
      const indicator = p.indicator ? `: ${p.indicator}` : ''
      return clip(`Observation${count} for ${p.incidentId}${where}${indicator}`)
    }
    case 'advisory.published': {
      const p = event.payload
      return clip(`Advisory ${p.advisoryId}: ${p.title}${p.incidentId ? ` (re ${p.incidentId})` : ''}`)
    }
    case 'incident.acknowledged':
      return clip(`Incident ${event.payload.incidentId} acknowledged${by(event)}`)
    case 'incident.escalated': {
      const p = event.payload
      return clip(`Incident ${p.incidentId} escalated to ${p.severity}: ${p.reason}`)
    }
    case 'incident.status_changed': {
      const p = event.payload
      return clip(`Incident ${p.incidentId} status ${p.status}${p.reason ? `: ${p.reason}` : ''}`)
    }
    case 'incident.linked': {
      const p = event.payload
      return clip(`Incident ${p.incidentId} ${p.relation.replace(/_/g, ' ')} ${p.otherIncidentId}`)
    }
    case 'incident.network_state_set': {
      const p = event.payload
      return clip(`Incident ${p.incidentId}: network ${p.networkId} ${p.state}`)
    }
    case 'task.created': {
      const p = event.payload
      return clip(`Task ${p.taskId} (${p.priority}) for ${p.incidentId}: ${p.title}`)
    }
    case 'task.assigned': {
      const a = event.payload.assignee
      return clip(`Task ${event.payload.taskId} assigned to ${a.kind === 'user' ? a.userId : a.organisation}`)
    }
    case 'task.accepted':
    case 'task.started':
    case 'task.completed':
    case 'task.reopened':
      return clip(`Task ${event.payload.taskId} ${event.type.slice(5)}${by(event)}`)
    case 'task.blocked':
      return clip(`Task ${event.payload.taskId} blocked: ${event.payload.reason}`)
    case 'comment.posted':
      return clip(`Comment on ${event.payload.incidentId}${by(event)}: ${event.payload.body}`)
    case 'bookmark.saved':
      return clip(`Bookmark: ${event.payload.title}`)
    default:
      return exhaustiveSwitchError(event)
  }
}
