import { type Domain, span } from './scale.ts'

/** The timeline's follow state: live keeps the right edge at now. */
export interface Follow {
  live: boolean
  domain: Domain
}

export type FollowAction =
  /** A second passed, or new events arrived. */
  | { type: 'tick'; now: number }
  /** The user zoomed or panned to `domain`. */
  | { type: 'user'; domain: Domain; now: number }
  /** "Back to live" (or 'l'): follow now again, keeping the span. */
  | { type: 'live'; now: number }
  /** Fit a span while nobody has touched the view (live only). */
  | { type: 'fit'; span: number; now: number }

/** How far from now the right edge may be and still count as "at now": 1% of the span, at least 1 s. */
export function tolerance(domain: Domain): number {
  return Math.max(1000, span(domain) * 0.01)
}

export function initialFollow(now: number, spanMs: number): Follow {
  return { live: true, domain: { from: now - spanMs, to: now } }
}

function atNow(spanMs: number, now: number): Domain {
  return { from: now - spanMs, to: now }
}

/**
 * Live follows now on every tick. A user move that leaves the right edge
 * before now (panning or zooming back in time) stops following; one that
 * brings it to now or later resumes it (snapped to now).
 */
export function followReducer(state: Follow, action: FollowAction): Follow {
  switch (action.type) {
    case 'tick':
      if (!state.live || state.domain.to === action.now) return state
      return { live: true, domain: atNow(span(state.domain), action.now) }
    case 'user': {
      const { domain, now } = action
      if (domain.to >= now - tolerance(domain)) return { live: true, domain: atNow(span(domain), now) }
      return { live: false, domain }
    }
    case 'live':
      return { live: true, domain: atNow(span(state.domain), action.now) }
    case 'fit':
      if (!state.live) return state
      return { live: true, domain: atNow(action.span, action.now) }
  }
}
