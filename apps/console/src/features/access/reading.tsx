/**
 * What the Access page reads (the directory, the accounts, the tokens, the wall presets), each on
 * its own: read on mount and again on demand, the value kept when a later read is refused, and the
 * refusal shown where the section is.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import { describeFormError, type FormError, formErrorOf, headlineOf } from '../sharing/directory.ts'

/** What a read brought: the value (null until the first answer), when, and the last refusal. */
export interface Reading<T> {
  value: T | null
  /** When the value on screen was read (ISO). */
  at: string | null
  loading: boolean
  error: FormError | null
}

/** Read on mount and with `reload`; an older answer arriving late is dropped, the value kept on a refusal. */
export function useReading<T>(read: () => Promise<T>): Reading<T> & { reload: () => Promise<void> } {
  const [reading, setReading] = useState<Reading<T>>({ value: null, at: null, loading: true, error: null })
  const latest = useRef(0)
  const reload = useCallback(async () => {
    const call = ++latest.current
    setReading((r) => ({ ...r, loading: true }))
    try {
      const value = await read()
      if (call === latest.current) setReading({ value, at: new Date().toISOString(), loading: false, error: null })
    } catch (error) {
      if (call === latest.current) setReading((r) => ({ ...r, loading: false, error: formErrorOf(error) }))
    }
  }, [read])
  useEffect(() => {
    void reload()
  }, [reload])
  return { ...reading, reload }
}

/** A read that failed, where its section is. */
export function LoadError({ error, testId }: { error: FormError | null; testId: string }) {
  if (!error) return null
  return (
    <div className="command-error" role="alert" data-testid={testId} data-code={error.code}>
      <strong>{headlineOf(error.code)}:</strong> {describeFormError(error)}
    </div>
  )
}
