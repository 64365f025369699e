import type { ReactNode } from 'react'

/**
 * One choice among a few, as a row of chips (`aria-pressed` on the chosen one): the incident
 * list's filters, the task board's scope. Named by a legend, or by `ariaLabel` when none shows.
 */
export function ChoiceChips<T extends string>({
  legend,
  ariaLabel,
  className = 'chips',
  choices,
  chosen,
  label,
  testid,
  title,
  onChoose,
}: {
  legend?: string
  ariaLabel?: string
  className?: string
  choices: readonly T[]
  chosen: T
  label: (choice: T) => ReactNode
  testid: (choice: T) => string
  title?: (choice: T) => string | undefined
  onChoose: (choice: T) => void
}) {
  return (
    <fieldset className={className} aria-label={ariaLabel}>
      {legend !== undefined && <legend>{legend}</legend>}
      {choices.map((choice) => (
        <button
          key={choice}
          type="button"
          className="chip"
          aria-pressed={chosen === choice}
          data-testid={testid(choice)}
          title={title?.(choice)}
          onClick={() => onChoose(choice)}
        >
          {label(choice)}
        </button>
      ))}
    </fieldset>
  )
}
