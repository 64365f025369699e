import { serverNow } from '../../data/store.ts'

/** The time the picture shows: the replay playhead while replaying, else now (the timeline follows it). */
let playhead: number | null = null

export function setDisplayNow(at: number | null): void {
  playhead = at
}

export function displayNow(): number {
  return playhead ?? Date.now()
}

/**
 * The same on the server's clock (data/store.ts `serverNow`): the playhead while replaying, else
 * the server's now, for what is timed against the times the server stamped (the map's arc fade).
 */
export function serverDisplayNow(clockOffsetMs: number, localNow = Date.now()): number {
  return playhead ?? serverNow(localNow, clockOffsetMs)
}

export function isReplaying(): boolean {
  return playhead !== null
}
