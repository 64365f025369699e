import { createStore, useStore } from 'zustand'

/**
 * The viewer's alarm preferences, remembered per user in localStorage: the sound (off by
 * default), whether highs alarm too (off by default), and the incidents dismissed.
 */
export interface AlarmPrefs {
  user: string | null
  sound: boolean
  includeHigh: boolean
  dismissed: ReadonlySet<string>
}

const DISMISSED_MAX = 500
const key = (user: string, what: string) => `watchfloor.alarm.${what}.${user}`

function read(user: string, what: string): string | null {
  try {
    return localStorage.getItem(key(user, what))
  } catch {
    return null
  }
}

function write(user: string | null, what: string, value: string): void {
  if (user === null) return
  try {
    localStorage.setItem(key(user, what), value)
  } catch {
    // storage full or refused: the preference lasts for this tab only
  }
}

function readDismissed(user: string): Set<string> {
  try {
    const parsed: unknown = JSON.parse(read(user, 'dismissed') ?? '[]')
    return new Set(Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [])
  } catch {
    return new Set()
  }
}

export const alarmPrefs = createStore<AlarmPrefs>(() => ({
  user: null,
  sound: false,
  includeHigh: false,
  dismissed: new Set(),
}))

export function useAlarmPrefs<T>(selector: (prefs: AlarmPrefs) => T): T {
  return useStore(alarmPrefs, selector)
}

/** Loads the preferences of the user signed in (null: signed out, defaults). */
export function loadAlarmPrefs(user: string | null): void {
  if (user === alarmPrefs.getState().user) return
  if (user === null) {
    alarmPrefs.setState({ user: null, sound: false, includeHigh: false, dismissed: new Set() })
    return
  }
  alarmPrefs.setState({
    user,
    sound: read(user, 'sound') === 'on',
    includeHigh: read(user, 'high') === 'on',
    dismissed: readDismissed(user),
  })
}

export function setAlarmSound(on: boolean): void {
  alarmPrefs.setState({ sound: on })
  write(alarmPrefs.getState().user, 'sound', on ? 'on' : 'off')
}

export function setAlarmIncludeHigh(on: boolean): void {
  alarmPrefs.setState({ includeHigh: on })
  write(alarmPrefs.getState().user, 'high', on ? 'on' : 'off')
}

/** Dismisses an incident's alarm for this viewer only (the newest 500 are remembered). */
export function dismissAlarm(incidentId: string): void {
  const dismissed = [...alarmPrefs.getState().dismissed, incidentId].slice(-DISMISSED_MAX)
  alarmPrefs.setState({ dismissed: new Set(dismissed) })
  write(alarmPrefs.getState().user, 'dismissed', JSON.stringify(dismissed))
}

/** A short two-tone beep made with the Web Audio API (no audio file). */
export function playAlarmTone(): void {
  try {
    const context = new AudioContext()
    const gain = context.createGain()
    gain.gain.value = 0.15
    gain.connect(context.destination)
    const oscillator = context.createOscillator()
    oscillator.type = 'square'
    oscillator.frequency.setValueAtTime(880, context.currentTime)
    oscillator.frequency.setValueAtTime(660, context.currentTime + 0.18)
    oscillator.connect(gain)
    oscillator.start()
    oscillator.stop(context.currentTime + 0.36)
    oscillator.onended = () => void context.close()
  } catch {
    // no audio in this browser: the banner and the title still say it
  }
}
