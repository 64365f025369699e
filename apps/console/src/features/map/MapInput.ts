/**
 * The listening side of the live map (MapPainter.ts draws it), as MapLibre splits its handlers
 * from its Map: hover shows a tooltip, a click selects an incident or zooms into a cluster, the
 * camera and the view store follow each other, and the view's selection and layer toggles reach
 * the painter. The map's own handlers (pan, zoom, keyboard) are MapLibre's, configured where the
 * map is created; there are no others.
 */
import type { Point } from 'geojson'
import type { Map as MapLibreMap, Subscription } from 'maplibre-gl'
import { viewStore } from '../../view/viewStore.ts'
import { alarmView } from '../alarm/alarmStore.ts'
import { cameraView, sameView, viewMovedAway } from './cameraView.ts'
import type { MapPainter } from './MapPainter.ts'
import { LAYERS } from './style.ts'

export class MapInput {
  private readonly cleanups: Array<() => void> = []

  constructor(private readonly painter: MapPainter) {
    const map = painter.map
    this.followView(map)
    this.listenToPointer(map)
  }

  /** Stop listening (before the painter removes the map). */
  destroy(): void {
    for (const cleanup of this.cleanups) cleanup()
  }

  private listen(subscription: Subscription): void {
    this.cleanups.push(() => subscription.unsubscribe())
  }

  /**
   * The camera records itself in the view (and so the address bar) when it stops; a view moved by
   * someone else (a link, history) moves the camera. Selection and layer toggles are drawn.
   */
  private followView(map: MapLibreMap): void {
    this.listen(
      map.on('moveend', () => {
        const next = cameraView(map.getCenter().wrap(), map.getZoom())
        if (!sameView(next, viewStore.getState().map)) viewStore.getState().setMap(next)
      }),
    )
    this.cleanups.push(alarmView.subscribe(() => this.painter.showAlarms()))
    this.cleanups.push(
      viewStore.subscribe((v, prev) => {
        if (v.selection !== prev.selection) this.painter.showSelection()
        if (v.layers !== prev.layers) this.painter.showLayers(v.layers)
        if (v.map !== prev.map) {
          // someone else moved the view (a link, history): follow it; our own moveend is a no-op here
          const c = map.getCenter().wrap()
          if (viewMovedAway({ lng: c.lng, lat: c.lat, zoom: map.getZoom() }, v.map))
            map.jumpTo({ center: [v.map.lng, v.map.lat], zoom: v.map.zoom })
        }
      }),
    )
  }

  /** Hover and click on incidents, clusters and networks. */
  private listenToPointer(map: MapLibreMap): void {
    const painter = this.painter
    this.listen(
      map.on('mousemove', (e) => {
        const feature = painter.featureAt(e.point)
        map.getCanvas().style.cursor = feature && feature.layer.id !== LAYERS.networks ? 'pointer' : ''
        painter.setHover(feature)
      }),
    )
    this.listen(map.on('mouseout', () => painter.setHover(undefined)))
    this.listen(
      map.on('click', (e) => {
        const feature = painter.featureAt(e.point)
        if (!feature) return // a click on empty map keeps the selection
        if (feature.layer.id === LAYERS.incidents || feature.layer.id === LAYERS.alarmed) {
          viewStore.getState().select(String(feature.properties.incidentId))
        } else if (feature.layer.id === LAYERS.clusters) {
          const clusterId = Number(feature.properties.cluster_id)
          const center = (feature.geometry as Point).coordinates as [number, number]
          void painter
            .clusterExpansionZoom(clusterId)
            ?.then((zoom) => map.easeTo({ center, zoom: Math.min(zoom + 0.2, map.getMaxZoom()) }))
            .catch(() => map.easeTo({ center, zoom: map.getZoom() + 2 }))
        }
      }),
    )
  }
}
