/**
 * The pieces the Sharing page's forms share: one change at a time with the server's refusal
 * (`useAction`), the refusal shown next to what asked (`ErrorNote`, naming the fields of a 400's
 * `details.issues`), a labelled text field marked by the issues about it, and a delete asked twice.
 */
import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react'
import {
  describeFormError,
  type FormError,
  fieldOfIssue,
  formErrorOf,
  headlineOf,
  issuesFor,
  issuesUnder,
} from './directory.ts'

/** One change at a time: whether it is under way and the server's refusal, if any. */
export function useAction() {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<FormError | null>(null)
  const run = useCallback(async (work: () => Promise<unknown>): Promise<boolean> => {
    setPending(true)
    setError(null)
    try {
      await work()
      return true
    } catch (failure) {
      setError(formErrorOf(failure))
      return false
    } finally {
      setPending(false)
    }
  }, [])
  const clear = useCallback(() => setError(null), [])
  return { pending, error, run, clear }
}

/** A refusal next to the form that asked: the server's message and, for a 400, each field it names. */
export function ErrorNote({
  error,
  fields,
  onDismiss,
  testId,
}: {
  error: FormError | null
  fields: Readonly<Record<string, string>>
  onDismiss: () => void
  testId: string
}) {
  if (!error) return null
  return (
    <div className="command-error" role="alert" data-testid={testId} data-code={error.code}>
      <strong>{headlineOf(error.code)}:</strong>{' '}
      <span data-testid={`${testId}-message`}>{describeFormError(error)}</span>
      {error.issues.length > 0 && (
        <ul>
          {error.issues.map((issue) => (
            <li key={`${issue.path}:${issue.message}`} data-testid={`${testId}-issue`} data-field={issue.path}>
              <strong>{fields[fieldOfIssue(issue.path)] ?? 'Request'}</strong>{' '}
              <span className="mono muted">({issue.path})</span>: {issue.message}
            </li>
          ))}
        </ul>
      )}{' '}
      <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss the error">
        ✕
      </button>
    </div>
  )
}

/** A labelled input; a field a refusal names is marked invalid and says why beneath. */
export function TextField({
  label,
  value,
  onChange,
  error,
  field,
  issuePath,
  hint,
  testId,
  autoCapitalize,
  type,
  inputMode,
  placeholder,
}: {
  label: string
  value: string
  onChange: (value: string) => void
  error: FormError | null
  /** The form field whose issues mark it (the first segment of an issue's path). */
  field: string
  /** A nested field (`auth.secretEnv`): only the issues at or inside this path mark it. */
  issuePath?: string
  hint?: ReactNode
  testId: string
  autoCapitalize?: 'none' | 'characters'
  type?: 'text' | 'url'
  inputMode?: 'text' | 'url' | 'numeric'
  placeholder?: string
}) {
  const id = useId()
  const issues = issuePath === undefined ? issuesFor(error, field) : issuesUnder(error, issuePath)
  const described = [hint ? `${id}-hint` : '', issues.length > 0 ? `${id}-issue` : ''].filter(Boolean).join(' ')
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="input"
        data-testid={testId}
        type={type ?? 'text'}
        value={value}
        spellCheck={false}
        autoComplete="off"
        autoCapitalize={autoCapitalize ?? 'none'}
        {...(inputMode === undefined ? {} : { inputMode })}
        {...(placeholder === undefined ? {} : { placeholder })}
        aria-invalid={issues.length > 0 ? true : undefined}
        aria-describedby={described || undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {hint && (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      )}
      {issues.length > 0 && (
        <span id={`${id}-issue`} className="error field-issue" data-testid={`${testId}-issue`}>
          {issues.map((issue) => issue.message).join('; ')}
        </span>
      )}
    </div>
  )
}

/**
 * Rename and delete of a directory entry (an organisation's row, a community's card): Rename opens
 * its editor (hidden while it is open), Delete asks twice, then deletes and reloads.
 */
export function EntryActions({
  kind,
  id,
  renaming,
  action,
  onRename,
  onDelete,
}: {
  kind: 'organisation' | 'community'
  id: string
  renaming: boolean
  action: ReturnType<typeof useAction>
  onRename: () => void
  onDelete: () => Promise<void>
}) {
  return (
    <div className="sharing-actions">
      {!renaming && (
        <button
          type="button"
          className="button small"
          data-testid={`${kind}-rename-open`}
          aria-label={`Rename ${id}`}
          onClick={() => {
            action.clear()
            onRename()
          }}
        >
          Rename
        </button>
      )}
      <DeleteButton
        what={id}
        pending={action.pending}
        testId={`${kind}-delete`}
        onConfirm={() => void action.run(onDelete)}
      />
    </div>
  )
}

/** A delete asked twice: the first press asks, the second deletes; Cancel (focused) backs out. */
export function DeleteButton({
  what,
  pending,
  onConfirm,
  testId,
}: {
  what: string
  pending: boolean
  onConfirm: () => void
  testId: string
}) {
  const [asking, setAsking] = useState(false)
  const cancelRef = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (asking) cancelRef.current?.focus()
  }, [asking])
  if (!asking)
    return (
      <button
        type="button"
        className="button small"
        data-testid={testId}
        aria-label={`Delete ${what}`}
        onClick={() => setAsking(true)}
      >
        Delete
      </button>
    )
  return (
    <span className="sharing-confirm">
      <span>Delete {what}?</span>
      <button
        type="button"
        className="button small danger"
        data-testid={`${testId}-confirm`}
        disabled={pending}
        onClick={() => {
          setAsking(false)
          onConfirm()
        }}
      >
        {pending ? 'Deleting…' : 'Delete'}
      </button>
      <button type="button" className="button small" ref={cancelRef} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  )
}
