/** The time the picture shows: the replay playhead while replaying, else now (the timeline follows it). */
let playhead: number | null = null

export function setDisplayNow(at: number | null): void {
  playhead = at
}

export function displayNow(): number {
  return playhead ?? Date.now()
}

export function isReplaying(): boolean {
  return playhead !== null
}
