import { useEffect, useState } from 'react'
import { serverNow, useWatchfloor } from '../data/store.ts'

/**
 * Ticks every `ms` so ages stay true without new data, and at once when a hidden tab is shown
 * again (timers are throttled while it is hidden).
 */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    const onVisible = () => {
      if (document.visibilityState === 'visible') setNow(Date.now())
    }
    document.addEventListener('visibilitychange', onVisible)
    return () => {
      clearInterval(timer)
      document.removeEventListener('visibilitychange', onVisible)
    }
  }, [ms])
  return now
}

/**
 * `useNow` on the server's clock (data/store.ts `serverNow`, set by the heartbeats): for ages,
 * staleness and overdue tasks, all timed against what the server or a sender stamped, so a
 * workstation whose clock is minutes off still shows them true.
 */
export function useServerNow(ms = 5000): number {
  const local = useNow(ms)
  const offset = useWatchfloor((s) => s.clockOffsetMs)
  return serverNow(local, offset)
}
