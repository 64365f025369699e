/**
 * The pieces the forms of the Sharing and Access pages share: one change at a time with the
 * server's refusal (`useAction`), the refusal shown next to what asked (`ErrorNote`, naming the
 * fields of a 400's `details.issues`), a labelled text field and select marked by the issues about
 * them, a delete (or a revocation) asked twice, and a value with a button that copies it.
 */
import { type FormEvent, type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react'
import { formatTime } from '../../ui/format.ts'
import { ui } from '../coordination/coordination.ts'
import {
  describeFormError,
  type FormError,
  fieldOfIssue,
  formErrorOf,
  headlineOf,
  issuesFor,
  issuesUnder,
} from './directory.ts'

/**
 * A form's fields as one value: the value, a setter of one field (`set('label')(value)`), and the
 * setter of the whole (to empty it once the server took it; it keeps what was typed on a refusal).
 */
export function useFormFields<T extends object>(empty: () => T) {
  const [form, setForm] = useState<T>(empty)
  const set =
    <K extends keyof T>(key: K) =>
    (value: T[K]) =>
      setForm((f) => ({ ...f, [key]: value }))
  return { form, set, setForm }
}

/**
 * A form that adds one thing (an organisation, a community, a feed, an account): its fields
 * (`useFormFields`), one change at a time (`useAction`) and the id of what it added last. Submitted,
 * `create` sends the form and answers the new thing's id; the form then becomes `afterCreate` of
 * itself (empty unless said), and `onChanged` reads the list again. A refusal keeps what was typed.
 */
export function useCreateForm<T extends object>(
  empty: () => T,
  create: (form: T) => Promise<string>,
  onChanged: () => Promise<void>,
  afterCreate: (form: T) => T = empty,
) {
  const action = useAction()
  const fields = useFormFields(empty)
  // a field edited is no longer said to be wrong (the refusal's other issues stay)
  const set =
    <K extends keyof T>(key: K) =>
    (value: T[K]) => {
      action.forget(String(key))
      fields.set(key)(value)
    }
  const [added, setAdded] = useState<string | null>(null)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setAdded(null)
    void action.run(async () => {
      setAdded(await create(fields.form))
      fields.setForm(afterCreate)
      await onChanged()
    })
  }
  return { ...fields, set, action, added, submit }
}

/** The organisations of the directory as a select's options, after a first "choose" (or "none there"). */
export function organisationChoices(
  organisations: readonly { id: string; name: string }[],
): { value: string; label: string }[] {
  return [
    { value: '', label: organisations.length === 0 ? 'no organisations in the directory' : 'choose an organisation' },
    ...organisations.map((o) => ({ value: o.id, label: `${o.id} · ${o.name}` })),
  ]
}

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
  /**
   * The refusal's issues about `field` (a form's key: `label`, or the last part of a path such as
   * `auth.secretEnv`) are forgotten once it is edited: what was fixed is no longer said to be wrong;
   * the refusal goes with its last issue.
   */
  const forget = useCallback((field: string) => {
    setError((shown) => {
      if (shown === null || shown.issues.length === 0) return shown
      const about = (path: string) => path === field || path.endsWith(`.${field}`)
      const left = shown.issues.filter((issue) => !about(issue.path))
      if (left.length === shown.issues.length) return shown
      if (left.length === 0) return null
      // the server's message named every issue: it now says how many are left, each listed below
      const message = `${left.length === 1 ? 'one field is' : `${left.length} fields are`} still refused`
      return { ...shown, issues: left, message }
    })
  }, [])
  return { pending, error, run, clear, forget }
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
  autoComplete,
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
  type?: 'text' | 'url' | 'password'
  inputMode?: 'text' | 'url' | 'numeric'
  placeholder?: string
  /** Default `off`; a password an admin sets for someone else: `new-password` (never the admin's own filled in). */
  autoComplete?: 'off' | 'new-password'
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
        autoComplete={autoComplete ?? 'off'}
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

/** A labelled select; a field a refusal names (at or inside `field`) is marked invalid and says why beneath. */
export function SelectField<T extends string>({
  label,
  value,
  options,
  onChange,
  error,
  field,
  hint,
  testId,
}: {
  label: string
  value: T
  options: readonly { value: T; label: string }[]
  onChange: (value: T) => void
  error: FormError | null
  field: string
  hint?: string | undefined
  testId: string
}) {
  const id = useId()
  const issues = issuesUnder(error, field)
  const described = [hint ? `${id}-hint` : '', issues.length > 0 ? `${id}-issue` : ''].filter(Boolean).join(' ')
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        className="input"
        data-testid={testId}
        value={value}
        aria-invalid={issues.length > 0 ? true : undefined}
        aria-describedby={described || undefined}
        onChange={(e) => onChange(e.target.value as T)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
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

/**
 * A delete asked twice: the first press asks, the second deletes; Cancel (focused) backs out. `verb`
 * and `acting` name another such step (Revoke, Revoking…), `consequence` says what follows it.
 */
export function DeleteButton({
  what,
  pending,
  onConfirm,
  testId,
  verb = 'Delete',
  acting = 'Deleting…',
  consequence,
}: {
  what: string
  pending: boolean
  onConfirm: () => void
  testId: string
  verb?: string
  acting?: string
  consequence?: string
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
        aria-label={`${verb} ${what}`}
        onClick={() => setAsking(true)}
      >
        {verb}
      </button>
    )
  return (
    <span className="sharing-confirm">
      <span>
        {verb} {what}?{consequence ? ` ${consequence}` : ''}
      </span>
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
        {pending ? acting : verb}
      </button>
      <button type="button" className="button small" ref={cancelRef} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  )
}

/** Put `text` on the clipboard; where the browser does not allow it, select `fallback`'s text for Ctrl+C. */
export async function copyText(text: string, fallback: HTMLElement | null): Promise<'copied' | 'selected'> {
  try {
    await navigator.clipboard.writeText(text)
    return 'copied'
  } catch {
    if (fallback) {
      const selection = window.getSelection()
      selection?.removeAllRanges()
      const range = document.createRange()
      range.selectNodeContents(fallback)
      selection?.addRange(range)
    }
    return 'selected'
  }
}

/** A value in monospace and a button that copies it; what happened is said in a live region. */
export function Copyable({ value, what, testId }: { value: string; what: string; testId: string }) {
  const [said, setSaid] = useState<'copied' | 'selected' | null>(null)
  const codeRef = useRef<HTMLElement>(null)
  useEffect(() => {
    if (said === null) return
    const timer = setTimeout(() => setSaid(null), 4000)
    return () => clearTimeout(timer)
  }, [said])
  return (
    <span className="copyable">
      <code className="mono copyable-value" data-testid={testId} ref={codeRef}>
        {value}
      </code>
      <button
        type="button"
        className="button small"
        data-testid={`${testId}-copy`}
        aria-label={`Copy ${what}`}
        onClick={() => void copyText(value, codeRef.current).then(setSaid)}
      >
        Copy
      </button>
      <span className="hint" role="status">
        {said === 'copied' ? 'Copied.' : said === 'selected' ? 'Selected: press Ctrl+C to copy.' : ''}
      </span>
    </span>
  )
}

/**
 * The top of an admin page (Sharing, Access): back to the picture, reload, and when what it shows
 * was read. `page` prefixes the test ids (`sharing-back`, `access-reload`, `access-loaded-at`).
 */
export function PageControls({
  page,
  loading,
  readAt,
  onReload,
}: {
  page: string
  loading: boolean
  readAt: string | null
  onReload: () => void
}) {
  return (
    <div className="sharing-controls">
      <button
        type="button"
        className="button"
        data-testid={`${page}-back`}
        onClick={() => ui.getState().setPage('picture')}
      >
        ← Back to the picture
      </button>
      <button type="button" className="button" data-testid={`${page}-reload`} disabled={loading} onClick={onReload}>
        {loading ? 'Loading…' : 'Reload'}
      </button>
      {readAt && (
        <span className="muted" data-testid={`${page}-loaded-at`}>
          read {formatTime(readAt)}
        </span>
      )}
    </div>
  )
}
