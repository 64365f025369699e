import { useEffect, useState } from 'react'

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
