import { serverNow, watchfloor } from '../../data/store.ts'

/** The time the picture shows: the replay playhead while replaying, else now (the timeline follows it). */
let playhead: number | null = null

export function setDisplayNow(at: number | null): void {
  playhead = at
}

/**
 * The time the picture shows, on the server's clock (data/store.ts `serverNow`): the playhead while
 * replaying, else the server's now as the last heartbeat set it. What is drawn against it (the
 * timeline's now line and the window it follows, the map's arc fade) was stamped by the server or
 * the senders, so a kiosk whose clock is minutes off still shows the newest events at the right edge.
 */
export function displayNow(localNow = Date.now()): number {
  return serverDisplayNow(watchfloor.getState().clockOffsetMs, localNow)
}

/** `displayNow` with the offset given. */
export function serverDisplayNow(clockOffsetMs: number, localNow = Date.now()): number {
  return playhead ?? serverNow(localNow, clockOffsetMs)
}

export function isReplaying(): boolean {
  return playhead !== null
}
