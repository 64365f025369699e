import { useId } from 'react'
import { parseOptionalUtc, parseUtc, UTC_PATTERN, UTC_PATTERN_SECONDS } from './time.ts'

/**
 * A time field in UTC: a text input for `YYYY-MM-DD HH:MMZ` (24-hour), labelled UTC, that says
 * what is wrong with what was typed. The caller keeps the text and parses it with `parseUtc`.
 */
export function UtcTimeField({
  label,
  value,
  onChange,
  testId,
  seconds = false,
  optional = false,
  note,
}: {
  label: string
  value: string
  onChange: (text: string) => void
  testId: string
  seconds?: boolean
  optional?: boolean
  /** A word on a valid time (not an error: it may be sent), e.g. that it is in the past. */
  note?: string | undefined
}) {
  const errorId = useId()
  const noteId = useId()
  const parsed = optional ? parseOptionalUtc(value) : parseUtc(value)
  const error = parsed.ok ? null : parsed.error
  const pattern = seconds ? UTC_PATTERN_SECONDS : UTC_PATTERN
  return (
    <label className="form-field utc-field">
      <span>
        {label} <abbr title="Coordinated Universal Time, 24-hour">(UTC)</abbr>
      </span>
      <input
        type="text"
        className="input"
        inputMode="numeric"
        autoComplete="off"
        spellCheck={false}
        placeholder={pattern}
        title={`UTC, 24-hour: ${pattern}`}
        data-testid={testId}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : note ? noteId : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && (
        <span className="error" id={errorId} role="alert" data-testid={`${testId}-error`}>
          {error}
        </span>
      )}
      {!error && note && (
        <span className="muted" id={noteId} data-testid={`${testId}-note`}>
          {note}
        </span>
      )}
    </label>
  )
}
