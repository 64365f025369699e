/**
 * Accessible comboboxes (the WAI-ARIA combobox pattern with a listbox popup): a text field whose
 * suggestions are a `listbox`; ↓ and ↑ move the active option (`aria-activedescendant`, focus stays
 * in the field), Enter chooses it, Escape closes the list; a click chooses too. `Combobox` is a one
 * line field (task assignees, the incident picker); `MentionTextarea` a comment whose `@` opens
 * the list of people.
 */
import {
  type ChangeEvent,
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react'
import { insertMention, type MentionQuery, matchOptions, mentionAt, type Option } from './people.ts'

interface ListState {
  open: boolean
  active: number
}

/** The keys of a combobox: returns true when it handled the key (the field then ignores it). */
function handleKey(
  event: KeyboardEvent,
  state: ListState,
  count: number,
  setState: (s: ListState) => void,
  choose: (index: number) => void,
): boolean {
  switch (event.key) {
    case 'ArrowDown':
      if (count === 0) return false
      setState({ open: true, active: state.open ? (state.active + 1) % count : 0 })
      return true
    case 'ArrowUp':
      if (count === 0) return false
      setState({ open: true, active: state.open ? (state.active - 1 + count) % count : count - 1 })
      return true
    case 'Enter':
      if (!state.open || count === 0 || state.active < 0) return false
      choose(state.active)
      return true
    case 'Escape':
      if (!state.open) return false
      setState({ open: false, active: -1 })
      return true
    default:
      return false
  }
}

function OptionList({
  id,
  options,
  active,
  label,
  onChoose,
  testid,
}: {
  id: string
  options: readonly Option[]
  active: number
  label: string
  onChoose: (index: number) => void
  testid: string
}) {
  const list = useRef<HTMLDivElement | null>(null)
  const count = options.length
  useEffect(() => {
    // keep the list, then its active option, in sight (the detail panel scrolls)
    const element = list.current
    if (!element) return
    const option = active >= 0 && active < count ? element.children[active] : undefined
    element.scrollIntoView?.({ block: 'nearest' })
    option?.scrollIntoView?.({ block: 'nearest' })
  }, [active, count])
  return (
    <div ref={list} className="combobox-list" role="listbox" id={id} aria-label={label} data-testid={testid}>
      {options.map((option, index) => (
        <div
          key={option.id}
          id={`${id}-${index}`}
          role="option"
          // the field keeps the focus (aria-activedescendant); an option is never tabbed to
          tabIndex={-1}
          aria-selected={index === active}
          className={index === active ? 'combobox-option active' : 'combobox-option'}
          data-testid={`${testid}-option`}
          data-id={option.id}
          title={option.id}
          // mousedown, not click: the field keeps its focus
          onMouseDown={(e) => {
            e.preventDefault()
            onChoose(index)
          }}
        >
          <span className="combobox-label">{option.label}</span>
          {option.detail && <span className="combobox-detail muted">{option.detail}</span>}
        </div>
      ))}
    </div>
  )
}

/**
 * A text field with suggestions: `options` are all the choices, matched against what is typed
 * (`matchOptions`); choosing one calls `onPick` (which usually sets the value to its id). What is
 * typed stays free: a user id or organisation the list does not hold is still sent as typed.
 */
export function Combobox({
  value,
  onChange,
  options,
  onPick,
  label,
  testid,
  placeholder,
  required = false,
  className = 'input',
  after,
}: {
  value: string
  onChange: (value: string) => void
  options: readonly Option[]
  onPick: (option: Option) => void
  label: string
  testid: string
  placeholder?: string
  required?: boolean
  className?: string
  /** Shown after the field (what the value names, say). */
  after?: ReactNode
}) {
  const listId = useId()
  const [state, setState] = useState<ListState>({ open: false, active: -1 })
  const typed = value.trim()
  const found = state.open ? matchOptions(options, value) : []
  // what is typed is already the one choice: nothing left to suggest (and no list over what follows)
  const matches = found.length === 1 && (found[0]!.id === typed || found[0]!.label === typed) ? [] : found
  const open = state.open && matches.length > 0
  const active = Math.min(state.active, matches.length - 1)
  const choose = (index: number) => {
    const option = matches[index]
    if (!option) return
    onPick(option)
    setState({ open: false, active: -1 })
  }
  return (
    <span className="combobox">
      <input
        className={className}
        role="combobox"
        aria-label={label}
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
        autoComplete="off"
        data-testid={testid}
        value={value}
        placeholder={placeholder}
        required={required}
        onChange={(e) => {
          onChange(e.target.value)
          setState({ open: true, active: 0 })
        }}
        onFocus={() => setState({ open: true, active: -1 })}
        onBlur={() => setState({ open: false, active: -1 })}
        onKeyDown={(e) => {
          if (handleKey(e, { open, active }, matches.length, setState, choose)) e.preventDefault()
        }}
      />
      {open && (
        <OptionList
          id={listId}
          options={matches}
          active={active}
          label={label}
          onChoose={choose}
          testid={`${testid}-list`}
        />
      )}
      {after}
    </span>
  )
}

/**
 * A comment field: typing `@` and part of a name or user id lists the people (`people`) that match;
 * choosing one writes `@userId ` in its place (the mention as core's rule C15 reads it).
 */
export function MentionTextarea({
  value,
  onChange,
  people,
  testid,
  placeholder,
  rows = 2,
  required = false,
}: {
  value: string
  onChange: (value: string) => void
  people: readonly Option[]
  testid: string
  placeholder?: string
  rows?: number
  required?: boolean
}) {
  const listId = useId()
  const field: RefObject<HTMLTextAreaElement | null> = useRef(null)
  const [mention, setMention] = useState<MentionQuery | null>(null)
  const [state, setState] = useState<ListState>({ open: false, active: -1 })
  const caretAfter = useRef<number | null>(null)
  const matches = mention && state.open ? matchOptions(people, mention.query) : []
  const open = matches.length > 0
  const active = Math.min(Math.max(state.active, 0), matches.length - 1)

  useEffect(() => {
    // put the caret after a chosen mention once React has written the new text
    if (caretAfter.current !== null && field.current) {
      field.current.setSelectionRange(caretAfter.current, caretAfter.current)
      caretAfter.current = null
    }
  })

  const follow = (text: string, caret: number) => {
    const at = mentionAt(text, caret)
    setMention(at)
    setState({ open: at !== null, active: 0 })
  }
  const choose = (index: number) => {
    const option = matches[index]
    const element = field.current
    if (!option || !mention || !element) return
    const next = insertMention(value, mention, option.id, element.selectionStart ?? value.length)
    caretAfter.current = next.caret
    onChange(next.text)
    setMention(null)
    setState({ open: false, active: -1 })
  }
  return (
    <span className="combobox combobox-multiline">
      <textarea
        ref={field}
        className="input"
        role="combobox"
        aria-label="Comment"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open ? `${listId}-${active}` : undefined}
        data-testid={testid}
        placeholder={placeholder}
        value={value}
        rows={rows}
        required={required}
        onChange={(e: ChangeEvent<HTMLTextAreaElement>) => {
          onChange(e.target.value)
          follow(e.target.value, e.target.selectionStart ?? e.target.value.length)
        }}
        onBlur={() => setState({ open: false, active: -1 })}
        onKeyDown={(e) => {
          if (handleKey(e, { open, active }, matches.length, setState, choose)) e.preventDefault()
        }}
      />
      {open && (
        <OptionList
          id={listId}
          options={matches}
          active={active}
          label="People to mention"
          onChoose={choose}
          testid={`${testid}-list`}
        />
      )}
    </span>
  )
}
