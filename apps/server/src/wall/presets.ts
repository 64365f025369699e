import { WallPreset, WatchfloorError } from '@watchfloor/protocol'
import express from 'express'
import { z } from 'zod'
import { readConfigFile } from '../config.ts'

/** The presets every server has; a `WATCHFLOOR_WALL_PRESETS` file adds to them or replaces them by name. */
export const BUILT_IN_PRESETS: readonly WallPreset[] = [
  {
    name: 'overview',
    title: 'Allied networks',
    panels: ['map', 'ticker', 'counters', 'board', 'spotlight'],
  },
  {
    name: 'baltic',
    title: 'Baltic region',
    region: { lng: 24.5, lat: 57.6, zoom: 4.8 },
    filters: { organisations: ['EE', 'LV', 'LT'] },
  },
  {
    name: 'critical',
    title: 'Critical and high incidents',
    filters: { severities: ['critical', 'high'] },
    rotateSeconds: 15,
  },
]

const PresetFile = z.array(WallPreset)

/** Read a presets file: a JSON array of presets. Throws with the failing paths. */
export function loadPresetFile(file: string): WallPreset[] {
  const presets = readConfigFile('WATCHFLOOR_WALL_PRESETS', file, PresetFile, 'preset list')
  const names = new Set<string>()
  for (const preset of presets) {
    if (names.has(preset.name)) throw new Error(`WATCHFLOOR_WALL_PRESETS: preset '${preset.name}' is defined twice`)
    names.add(preset.name)
  }
  return presets
}

export class PresetRegistry {
  private readonly byName = new Map<string, WallPreset>()

  constructor(presets: Iterable<WallPreset>) {
    for (const preset of BUILT_IN_PRESETS) this.byName.set(preset.name, preset)
    for (const preset of presets) this.byName.set(preset.name, preset)
  }

  list(): WallPreset[] {
    return [...this.byName.values()]
  }

  get(name: string): WallPreset | undefined {
    return this.byName.get(name)
  }
}

/**
 * `GET /presets` and `GET /presets/:name` under `/api/v1/wall`. `lockedTo` gives the preset a
 * caller is limited to (a display token's), if any: it then sees only that one.
 */
export function wallRouter(
  presets: PresetRegistry,
  lockedTo: (req: express.Request) => string | undefined,
): express.Router {
  const router = express.Router()
  router.get('/presets', (req, res) => {
    const locked = lockedTo(req)
    res.json({ presets: presets.list().filter((p) => locked === undefined || p.name === locked) })
  })
  router.get('/presets/:name', (req, res) => {
    const locked = lockedTo(req)
    const { name } = req.params
    if (locked !== undefined && name !== locked)
      throw new WatchfloorError('forbidden', `this display token is limited to the preset '${locked}'`)
    const preset = presets.get(name)
    if (!preset) throw new WatchfloorError('not_found', `no wall preset '${name}'`)
    res.json(preset)
  })
  return router
}
