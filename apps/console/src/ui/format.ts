/** `2026-11-01T12:00:01.000Z` -> `2026-11-01 12:00:01Z` (UTC, no locale surprises). */
export function formatTime(iso: string): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`
}

/** A duration in a few characters: "45s", "12m", "3h 5m", "2d" (negative counts as 0). */
export function formatDuration(ms: number): string {
  const s = ms > 0 && Number.isFinite(ms) ? Math.floor(ms / 1000) : 0
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h ${m % 60}m`
  return `${Math.floor(h / 24)}d`
}

/** `2026-11-01T12:00:01.000Z` -> `12:00:01Z`. */
export function formatClock(iso: string): string {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  return `${new Date(ms).toISOString().slice(11, 19)}Z`
}
