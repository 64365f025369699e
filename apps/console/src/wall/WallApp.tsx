/**
 * `/wall`: the unattended wall display. Signs in with the token of its link (`#token=...`), reads
 * its preset, then shows the live picture with no controls. It never shows a frozen picture as
 * live: no heartbeat within the window and the whole wall says so, dimmed, with the time of the
 * last update, until the connection catches up again by itself.
 */

import { type IncidentState, isOpen, isOverdue, pictureHeadline, type TaskState } from '@watchfloor/core'
import type { StoredEvent, Tlp, WallPreset } from '@watchfloor/protocol'
import { type CSSProperties, useEffect, useMemo, useRef, useState } from 'react'
import { createStore } from 'zustand/vanilla'
import { ApiError, readFailure } from '../data/api.ts'
import { createConnection } from '../data/connection.ts'
import { fetchSession } from '../data/session.ts'
import { type OpeningProgress, type Session, serverNow, useWatchfloor, watchfloor } from '../data/store.ts'
import { MapView } from '../features/map/MapView.tsx'
import { useNow } from '../ui/useNow.ts'
import { useFilteredEvents, useFilteredIncidents } from '../view/selectors.ts'
import { DEFAULT_VIEW } from '../view/view.ts'
import { viewStore } from '../view/viewStore.ts'
import { presetName, type WallConfig, wallConfig } from './config.ts'
import { Board, Clock, Counters, lastUpdateText, Spotlight, TlpLabel, WallLegend } from './panels.tsx'
import {
  activePin,
  addPins,
  connectionHealth,
  expirePins,
  type Health,
  headline,
  type Pin,
  rotationIndex,
  scaledZoom,
  silenceWindowMs,
  spotlightCandidates,
  wallScale,
  wallTlp,
} from './picture.ts'
import { mayBeAcceptedAgain, recheckUntilAccepted, refusalNotice } from './refused.ts'
import { Ticker } from './Ticker.tsx'
import './wall.css'

/** Events the wall keeps in memory: not the observations (the density strip counts those). */
const keepOnWall = (event: StoredEvent) => event.type !== 'incident.observation'
const WALL_WINDOW_EVENTS = 20_000
/** Events read at most when the wall opens (its retention's span; beyond, the strip says where its counts start). */
const WALL_OPEN_EVENTS = 100_000

/** The incident the map flashes (the pinned critical). */
const flashStore = createStore<{ flash: string | null }>()(() => ({ flash: null }))

const wallConnection = createConnection({
  batchMs: 250,
  onUnauthenticated: (message) => {
    // the token was revoked (or never valid): say so, and show nothing of the old picture. The
    // token stays in the tab, so a reload says the same instead of asking for a link.
    watchfloor.setState({ status: 'revoked', error: message })
  },
})

type Phase =
  | { kind: 'no-token' }
  | { kind: 'starting'; message: string }
  | { kind: 'revoked'; message: string }
  | { kind: 'ready'; session: Session; config: WallConfig; notice: string | null }

async function fetchPreset(token: string, name: string): Promise<{ preset: WallPreset | null; notice: string | null }> {
  const response = await fetch(`/api/v1/wall/presets/${encodeURIComponent(name)}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  })
  if (response.ok) return { preset: (await response.json()) as WallPreset, notice: null }
  const failure = await readFailure(response)
  if (failure.error.code === 'not_found')
    return { preset: null, notice: `No preset '${name}': showing the default wall.` }
  throw new ApiError(failure)
}

/** Sign in, read the preset, configure stores and connect; retries with back-off while the server is away. */
function useWallStart(token: string | null): Phase {
  const [phase, setPhase] = useState<Phase>(
    token ? { kind: 'starting', message: 'Loading: signing in…' } : { kind: 'no-token' },
  )
  useEffect(() => {
    if (!token) return
    let cancelled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let delay = 1000
    const attempt = async () => {
      const session = await fetchSession(token)
      if (cancelled) return
      if (!session.ok) {
        if (session.status === 401) {
          setPhase({ kind: 'revoked', message: session.message })
          return
        }
        setPhase({ kind: 'starting', message: `${session.message} Retrying…` })
        timer = setTimeout(attempt, delay)
        delay = Math.min(delay * 2, 30_000)
        return
      }
      const locked = (session.session as Session & { preset?: string }).preset
      const name = locked ?? presetName(window.location.search)
      let fetched: Awaited<ReturnType<typeof fetchPreset>>
      try {
        fetched = await fetchPreset(token, name)
      } catch (error) {
        if (cancelled) return
        setPhase({ kind: 'starting', message: `${(error as Error).message}. Retrying…` })
        timer = setTimeout(attempt, delay)
        delay = Math.min(delay * 2, 30_000)
        return
      }
      if (cancelled) return
      const config = wallConfig(window.location.search, fetched.preset, locked !== undefined)
      // the wall's view is its configuration's alone (defaults, preset, the wall's link parameters):
      // nothing else in the address (a console's brushed range, a selection, a sort) narrows it
      // (the map's zoom follows the screen's width: WallPicture)
      viewStore.setState({ ...DEFAULT_VIEW, filters: config.filters, map: config.region, layers: config.layers })
      watchfloor.getState().setRetention({
        // the ticker shows what is kept: keep at least its span
        hours: Math.max(config.retentionHours, config.tickerHours),
        maxEvents: WALL_WINDOW_EVENTS,
        keep: keepOnWall,
        // opening reads that span too (observations counted for the density strip, not kept)
        openMaxEvents: WALL_OPEN_EVENTS,
      })
      watchfloor.getState().setSession(session.session)
      wallConnection.connect(token)
      setPhase({ kind: 'ready', session: session.session, config, notice: fetched.notice })
    }
    void attempt()
    return () => {
      cancelled = true
      if (timer !== undefined) clearTimeout(timer)
      wallConnection.disconnect()
    }
  }, [token])
  return phase
}

/**
 * The connection watchdog: the wall's health every second; when the server has gone quiet while
 * the socket still looks open, reconnect (which resumes from the last seq seen).
 */
function useHealth(config: WallConfig): { health: Health; now: number } {
  const now = useNow(1000)
  const status = useWatchfloor((s) => s.status)
  const lastMessageAt = useWatchfloor((s) => s.lastMessageAt)
  const opening = useWatchfloor((s) => s.opening !== null)
  const heartbeatMs = silenceWindowMs(config.heartbeatSeconds * 1000, wallConnection.heartbeatInterval())
  // an opening wall is loading, not lost: the lost banner needs a wall that was live once
  const wasLive = useRef(false)
  if (status === 'live') wasLive.current = true
  const health = connectionHealth(status, lastMessageAt, now, heartbeatMs, wasLive.current, opening)
  const kicked = useRef(0)
  useEffect(() => {
    if (health !== 'lost' || status !== 'live') return
    // silent but "connected": a half-open socket or a frozen server; try again, at most every window
    if (now - kicked.current < heartbeatMs) return
    kicked.current = now
    wallConnection.reconnect()
  }, [health, status, now, heartbeatMs])
  useEffect(() => {
    // back from a hidden tab: timers were throttled, so check the connection at once
    const onVisible = () => {
      if (document.visibilityState !== 'visible') return
      const s = watchfloor.getState()
      if (s.status === 'live' && Date.now() - s.lastMessageAt > heartbeatMs) wallConnection.reconnect()
    }
    document.addEventListener('visibilitychange', onVisible)
    return () => document.removeEventListener('visibilitychange', onVisible)
  }, [heartbeatMs])
  return { health, now }
}

/** Pins for new critical incidents among those this wall shows (its filters), from the events the window keeps. */
function usePins(config: WallConfig, now: number, shown: ReadonlySet<string>): Pin | null {
  const windowVersion = useWatchfloor((s) => s.windowVersion)
  const incidents = useWatchfloor((s) => s.state.incidents)
  const pins = useRef<ReadonlyMap<string, Pin>>(new Map())
  const seen = useRef({ version: -1, seq: 0 })
  if (seen.current.version !== windowVersion) {
    // scan only what arrived since the last render
    const { window } = watchfloor.getState()
    // a picture that ends below what was seen is another log (restored from an older backup) or a
    // narrower view: what comes after it is new
    const last = window.at(-1)?.seq ?? 0
    if (last < seen.current.seq) seen.current.seq = last
    let start = window.length
    while (start > 0 && window[start - 1]!.seq > seen.current.seq) start--
    if (start < window.length) {
      pins.current = addPins(pins.current, window.slice(start), now, config.pinSeconds * 1000)
      seen.current.seq = window.at(-1)!.seq
    }
    seen.current.version = windowVersion
  }
  pins.current = expirePins(pins.current, now)
  return activePin(pins.current, incidents, now, shown, config.rotateSeconds * 1000)
}

function WallPicture({ config, notice }: { config: WallConfig; notice: string | null }) {
  const { health, now: localNow } = useHealth(config)
  // what the server stamped (recordedAt, due times) is timed by the server's clock, not the kiosk's
  const clockOffsetMs = useWatchfloor((s) => s.clockOffsetMs)
  const now = serverNow(localNow, clockOffsetMs)
  const incidents = useFilteredIncidents()
  const allIncidents = useWatchfloor((s) => s.state.incidents)
  const networks = useWatchfloor((s) => s.state.networks)
  const advisories = useWatchfloor((s) => s.state.advisories)
  const lastMessageAt = useWatchfloor((s) => s.lastMessageAt)
  const lastSeq = useWatchfloor((s) => s.lastSeq)
  const shownIds = useMemo(() => new Set(incidents.map((i) => i.incidentId)), [incidents])
  const pin = usePins(config, now, shownIds)
  const panels = new Set(config.panels)

  const candidates = useMemo(() => spotlightCandidates(incidents, 8), [incidents])
  const index = rotationIndex(now, config.rotateSeconds * 1000, candidates.length)
  const pinned: IncidentState | undefined = pin ? allIncidents.get(pin.incidentId) : undefined
  const spotlight = pinned ?? candidates[index] ?? null
  const next = candidates.filter((c) => c !== spotlight).slice(0, 3)

  // the map highlights the spotlight incident and flashes a pinned one; the camera never moves
  useEffect(() => {
    viewStore.getState().select(spotlight?.incidentId ?? null)
  }, [spotlight?.incidentId])
  useEffect(() => {
    flashStore.setState({ flash: pin?.incidentId ?? null })
  }, [pin?.incidentId])

  const counts = useMemo(() => headline(incidents), [incidents])
  const tasks = useWatchfloor((s) => s.state.tasks)
  // tasks of the incidents on this wall that are past due (re-counted every second, tasks are few)
  const overdueTasks: TaskState[] = []
  for (const task of tasks.values()) if (shownIds.has(task.incidentId) && isOverdue(task, now)) overdueTasks.push(task)
  const overdue = overdueTasks.length
  // the headline is the worse of reported posture and incident impact, with the reason [core H2]
  const picture = useMemo(() => pictureHeadline(networks.values(), incidents), [networks, incidents])
  const sharingShown = panels.has('map') && config.layers.sharing
  const boardShown = panels.has('board')
  const tickerShown = panels.has('ticker')
  const countersShown = panels.has('counters')
  const tickerEvents = useFilteredEvents()
  // the strictest TLP of the events the ticker's density strip counts, as it last drew them
  const [densityTlp, setDensityTlp] = useState<Tlp>('CLEAR')
  const overdueKey = overdueTasks.map((task) => task.taskId).join()
  // the highest marking of anything on screen: incidents on map and lists, the spotlight, the open
  // incidents the board counts per network, networks, sharing arcs, the ticker's marks and the
  // events its density strip counts, the overdue tasks counted
  // biome-ignore lint/correctness/useExhaustiveDependencies: overdueKey stands for overdueTasks, rebuilt every second
  const marking = useMemo(
    () =>
      wallTlp({
        incidents: boardShown ? [...incidents, ...boardCounted(allIncidents.values(), networks)] : incidents,
        spotlight,
        networks: networks.values(),
        advisories: sharingShown || tickerShown ? advisories.values() : [],
        events: tickerShown ? tickerEvents : [],
        tasks: countersShown ? overdueTasks : [],
        counted: tickerShown ? [densityTlp] : [],
      }),
    [
      incidents,
      allIncidents,
      spotlight,
      networks,
      advisories,
      sharingShown,
      tickerShown,
      boardShown,
      tickerEvents,
      densityTlp,
      countersShown,
      overdueKey,
    ],
  )

  const lost = health === 'lost'
  const opening = useWatchfloor((s) => s.opening)
  const scale = useWallScale()
  // on a screen wider than the wall is drawn for, the map frames the same region as the panels
  // grow; again when a kiosk browser that opened windowed goes full screen
  useEffect(() => {
    const { region } = config
    viewStore.setState({ map: { ...region, zoom: scaledZoom(region.zoom, scale) } })
  }, [scale, config])
  return (
    <div
      className={`wall${lost ? ' wall-dimmed' : ''}`}
      style={{ '--wall-scale': scale } as CSSProperties}
      data-scale={scale}
      data-testid="wall"
      data-health={health}
      data-preset={config.preset}
      data-seq={lastSeq}
    >
      <header className="wall-banner" data-testid="wall-banner-top">
        <TlpLabel tlp={marking} />
        <span className="wall-title">{config.title}</span>
        <span
          className="wall-posture"
          data-testid="wall-posture"
          data-posture={picture.level}
          data-reported={picture.reported.posture}
          data-impact={picture.impact.severity ?? 'none'}
        >
          <span className="wall-level">
            Overall: <strong className={`posture-${picture.level}`}>{picture.level}</strong>
          </span>
          <span className="wall-posture-reason" data-testid="wall-posture-reason">
            · {picture.reason}
          </span>
        </span>
        <Clock now={now} timeZone={config.timeZone} />
      </header>
      {lost && (
        <div className="wall-lost" role="alert" data-testid="wall-connection-lost">
          CONNECTION LOST · picture frozen · last update{' '}
          <span data-testid="wall-last-update">{lastUpdateText(lastMessageAt, clockOffsetMs)}</span> · reconnecting…
        </div>
      )}
      {health === 'loading' && <WallLoading progress={opening} />}
      {notice && <div className="wall-notice">{notice}</div>}
      <main className="wall-main">
        {panels.has('map') && (
          <div className="wall-map">
            <MapView wall flash={flashStore} />
            <WallLegend />
          </div>
        )}
        {(panels.has('counters') || panels.has('spotlight') || panels.has('board')) && (
          <div className="wall-side">
            {panels.has('counters') && <Counters headline={counts} overdue={overdue} />}
            {panels.has('spotlight') && (
              <Spotlight
                incident={spotlight}
                next={next}
                pin={pin}
                now={now}
                staleMs={config.staleMinutes * 60_000}
                position={{ index: Math.max(0, index), count: candidates.length }}
              />
            )}
            {panels.has('board') && <Board now={now} silentMs={config.silentMinutes * 60_000} />}
          </div>
        )}
      </main>
      {panels.has('ticker') && (
        <div className="wall-ticker">
          <Ticker hours={config.tickerHours} onMarking={setDensityTlp} />
        </div>
      )}
      <footer className="wall-banner" data-testid="wall-banner-bottom">
        <TlpLabel tlp={marking} />
        <span className="wall-muted">
          {health === 'live' ? 'LIVE' : 'NOT LIVE'} · last update {lastUpdateText(lastMessageAt, clockOffsetMs)} · seq{' '}
          {lastSeq}
        </span>
        <TlpLabel tlp={marking} />
      </footer>
    </div>
  )
}

/** While the wall opens (snapshot, recent events, subscribe): loading, with how far it is. Never "lost". */
function WallLoading({ progress }: { progress: OpeningProgress | null }) {
  const text =
    progress === null
      ? 'connecting…'
      : progress.step === 'picture'
        ? 'reading the picture…'
        : `reading recent events… ${progress.received.toLocaleString('en-US')}${
            progress.last > 0 ? ` (to seq ${progress.last.toLocaleString('en-US')})` : ''
          }`
  return (
    <div className="wall-loading" role="status" data-testid="wall-loading" data-step={progress?.step ?? 'connect'}>
      LOADING · {text}
    </div>
  )
}

function WallMessage({ title, text, testid }: { title: string; text: string; testid: string }) {
  return (
    <div className="wall wall-message" data-testid={testid} role="alert">
      <h1>{title}</h1>
      <p>{text}</p>
    </div>
  )
}

/** The first reload of an outdated wall after this long; each further one waits twice as long, at most `MAX`. */
const RELOAD_AFTER_MS = 10_000
const RELOAD_AFTER_MAX_MS = 5 * 60_000
const RELOADS_KEY = 'watchfloor.wall.outdatedReloads'

/**
 * The server refused this page's protocol version: the server was upgraded under an unattended
 * wall. Nobody is there to press reload, so the wall says so and reloads itself (its token is kept
 * in storage), backing off if the page it gets is still outdated.
 */
function WallOutdated() {
  const reloads = Number(sessionStorage.getItem(RELOADS_KEY) ?? 0)
  const delay = Math.min(RELOAD_AFTER_MAX_MS, RELOAD_AFTER_MS * 2 ** reloads)
  useEffect(() => {
    const timer = setTimeout(() => {
      sessionStorage.setItem(RELOADS_KEY, String(reloads + 1))
      window.location.reload()
    }, delay)
    return () => clearTimeout(timer)
  }, [delay, reloads])
  return (
    <WallMessage
      testid="wall-outdated"
      title="UPDATING"
      text={`The server runs another release than this page. The wall reloads itself in ${Math.round(delay / 1000)} s.`}
    />
  )
}

export function WallApp({ token }: { token: string | null }) {
  const phase = useWallStart(token)
  const status = useWatchfloor((s) => s.status)
  const error = useWatchfloor((s) => s.error)
  // live again after reloads: the next outdated page starts from the first delay
  useEffect(() => {
    if (status === 'live') sessionStorage.removeItem(RELOADS_KEY)
  }, [status])
  // the server's latest refusal while the wall asks again (an account disabled, then its token revoked)
  const [refusedSince, setRefusedSince] = useState<string | null>(null)
  const refused = phase.kind === 'revoked' || status === 'revoked'
  const reason = refusedSince ?? (phase.kind === 'revoked' ? phase.message : (error ?? ''))
  // refused, it asks now and then, and comes back by itself once its token is accepted again (an
  // account enabled again): the page loads anew, from the token kept in the tab; a token revoked,
  // expired or unknown never is, so it is not asked after, also when that is what an ask was told
  const askAgain = refused && mayBeAcceptedAgain(reason)
  useEffect(() => {
    if (!askAgain || token === null) return
    return recheckUntilAccepted(
      async () => {
        const answer = await fetchSession(token)
        // a refusal says why (the effect stops if it is final); the server away says nothing new
        if (!answer.ok && answer.status === 401) setRefusedSince(answer.message)
        return answer.ok
      },
      () => window.location.reload(),
    )
  }, [askAgain, token])
  if (status === 'outdated') return <WallOutdated />
  if (refused) {
    const notice = refusalNotice(reason)
    return <WallMessage testid="wall-revoked" title={notice.title} text={notice.text} />
  }
  if (phase.kind === 'no-token')
    return (
      <WallMessage
        testid="wall-no-token"
        title="No display token"
        text="Open this wall with its link: /wall?preset=…#token=…"
      />
    )
  if (phase.kind === 'starting')
    return <WallMessage testid="wall-starting" title="Watchfloor: loading" text={phase.message} />
  return <WallPicture config={phase.config} notice={phase.notice} />
}

/** The open incidents the board counts: those affecting a network it lists (core's `networkPostures`). */
function boardCounted(incidents: Iterable<IncidentState>, networks: ReadonlyMap<string, unknown>): IncidentState[] {
  const counted: IncidentState[] = []
  for (const incident of incidents)
    if (isOpen(incident) && incident.affectedNetworks.some((networkId) => networks.has(networkId)))
      counted.push(incident)
  return counted
}

/** The wall's scale for this window's width (`wallScale`), following a resize. */
function useWallScale(): number {
  const [scale, setScale] = useState(() => wallScale(window.innerWidth))
  useEffect(() => {
    const resized = () => setScale(wallScale(window.innerWidth))
    window.addEventListener('resize', resized)
    return () => window.removeEventListener('resize', resized)
  }, [])
  return scale
}
