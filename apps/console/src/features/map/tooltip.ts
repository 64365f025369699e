/**
 * The tooltip over a hovered incident, cluster or network, built from the stores' current state
 * (the feature's properties are what the map was last given; the store may be newer).
 */
import {
  highestTlp,
  type IncidentState,
  type NetworkState,
  SEVERITIES_ASCENDING,
  type TaskState,
  tasksForIncident,
} from '@watchfloor/core'
import type { Severity, Tlp } from '@watchfloor/protocol'
import type { MapGeoJSONFeature } from 'maplibre-gl'
import { watchfloor } from '../../data/store.ts'
import { taskSummary } from '../tasks/board.ts'
import { LAYERS, POSTURE_COLOURS, SEVERITY_COLOURS } from './style.ts'

/**
 * The TLP an incident's tip carries: what it says (severity, status, its tasks' summary) is what
 * every event folded into them made it, so the strictest of their content markings.
 */
export function incidentTipTlp(incident: IncidentState, tasks: readonly TaskState[]): Tlp {
  return highestTlp([incident.contentMarking.tlp, ...tasks.map((task) => task.contentMarking.tlp)])
}

/** The tooltip for a hovered incident, cluster or network (DOM built from text: nothing is parsed as HTML). */
export function tooltipFor(feature: MapGeoJSONFeature): HTMLElement {
  const root = document.createElement('div')
  root.className = 'wf-map-tip'
  const line = (className: string, ...parts: Array<string | Node>) => {
    const el = document.createElement('div')
    el.className = className
    el.append(...parts)
    root.append(el)
    return el
  }
  const span = (text: string, colour?: string, className?: string) => {
    const el = document.createElement('span')
    el.textContent = text
    if (colour) el.style.color = colour
    if (className) el.className = className
    return el
  }
  const p = feature.properties
  const state = watchfloor.getState().state
  if (feature.layer.id === LAYERS.incidents || feature.layer.id === LAYERS.alarmed) {
    const incident = state.incidents.get(String(p.incidentId))
    const severity = (incident?.severity ?? p.severity) as Severity
    const tasksOf = tasksForIncident(state, String(p.incidentId))
    const tlp = incident === undefined ? String(p.tlp) : incidentTipTlp(incident, tasksOf)
    line('wf-map-tip-title', incident?.title ?? String(p.title))
    line(
      'wf-map-tip-meta',
      span(`${SHAPE_GLYPH[severity]} ${severity}`, SEVERITY_COLOURS[severity], 'wf-map-tip-sev'),
      span(` · ${incident?.status ?? String(p.status)} · `),
      span(`TLP:${tlp}`, TLP_TEXT[tlp] ?? '#fff', 'wf-map-tip-tlp'),
    )
    const network = state.networks.get(String(p.networkId))
    if (network) line('wf-map-tip-sub', `at ${network.name}`)
    const tasks = taskSummary(tasksOf, Date.now())
    if (tasks) line('wf-map-tip-sub', tasks.text).dataset.overdue = String(tasks.overdue > 0)
  } else if (feature.layer.id === LAYERS.clusters) {
    const worst = SEVERITIES_ASCENDING[Number(p.maxSev) - 1] ?? 'low'
    line('wf-map-tip-title', `${p.point_count} incidents`)
    line(
      'wf-map-tip-meta',
      span('worst: '),
      span(`${SHAPE_GLYPH[worst]} ${worst}`, SEVERITY_COLOURS[worst], 'wf-map-tip-sev'),
    )
    line('wf-map-tip-sub', 'Click to zoom in')
  } else {
    const network = state.networks.get(String(p.networkId))
    const posture = (network?.posture ?? p.posture) as NetworkState['posture']
    line('wf-map-tip-title', network?.name ?? String(p.name))
    line('wf-map-tip-meta', span('posture: '), span(posture, POSTURE_COLOURS[posture], 'wf-map-tip-sev'))
    if (network) {
      line('wf-map-tip-sub', `${network.organisation} · ${network.nation}`)
      if (network.postureReason) line('wf-map-tip-sub', network.postureReason)
    }
  }
  return root
}

const SHAPE_GLYPH: Record<Severity, string> = { critical: '◆', high: '▲', medium: '■', low: '●' }
const TLP_TEXT: Record<string, string> = {
  RED: '#FF2B2B',
  'AMBER+STRICT': '#FFC000',
  AMBER: '#FFC000',
  GREEN: '#33FF00',
  CLEAR: '#FFFFFF',
}
