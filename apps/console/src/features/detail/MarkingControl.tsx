/**
 * "Change marking" in the incident's detail panel: its own organisation's coordinators and admins
 * (core's policy, C20) choose the TLP, PAP, who it is releasable to and, for RED, its recipients.
 * It sends `incident.set_marking` on the version the form was opened on (or a conflict's, after one):
 * a change by someone else meanwhile is a 409, never overwritten. A change that takes the incident
 * from someone asks first, naming who, and so does one that shows it to anyone new.
 */
import type { IncidentState } from '@watchfloor/core'
import { type Marking, PAP_LEVELS, type Pap, TLP_LEVELS, type Tlp } from '@watchfloor/protocol'
import { type FormEvent, type KeyboardEvent, useId, useState } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { draftForm, useDraft } from '../coordination/formDrafts.ts'
import { can } from '../coordination/permissions.ts'
import { CommandOutcome, useCommand } from '../coordination/useCommand.tsx'
import { usePeople } from '../coordination/usePeople.ts'
import {
  draftOf,
  type MarkingBlocked,
  type MarkingDraft,
  markingBlocked,
  markingOf,
  namesIn,
  noLongerSeenBy,
  widens,
} from './markingChange.ts'

/**
 * A marking change: whether the form is open, the marking it holds, the incident as it stood when it
 * was opened (null: not open), and the names being typed into "Releasable to" and "Recipients".
 */
export const MARKING_FORM = draftForm<{
  open: boolean
  marking: MarkingDraft | null
  openedOn: IncidentState | null
  releasable: string
  recipients: string
}>('marking', { open: false, marking: null, openedOn: null, releasable: '', recipients: '' })

export function MarkingControl({ incident }: { incident: IncidentState }) {
  const session = useWatchfloor((s) => s.session)
  // what was typed outlives the panel (a picture opened again), for this viewer (formDrafts.ts), and
  // so does the last change sent: sent again from the panel shown again, it is applied once
  const runner = useCommand({ of: { incidentId: incident.incidentId }, form: MARKING_FORM })
  const [form, setForm] = useDraft({ incidentId: incident.incidentId }, MARKING_FORM)
  const { open } = form
  const draft = form.marking ?? draftOf(incident.marking)
  /** The incident as it stood when the form was opened: the version the change expects [C3]. */
  const openedOn = form.openedOn ?? incident
  /**
   * The question before sending: who loses the incident, or that it reaches further (`widen`), for
   * exactly the marking and version asked about; any edit of the form withdraws it.
   */
  const [confirming, setConfirming] = useState<{
    lost: string[]
    widen: boolean
    marking: Marking
    version: number
  } | null>(null)
  /**
   * Why the form's marking may not be sent, said before asking the server: it says what the incident
   * is already marked (C20), or it would restate wider what was marked stricter (R14).
   */
  const [blocked, setBlocked] = useState<MarkingBlocked | null>(null)
  const setDraft = (next: MarkingDraft) => {
    setForm({ marking: next })
    setConfirming(null)
    setBlocked(null)
  }
  const formId = useId()
  if (!can(session, 'incident.set_marking', incident)) return null

  /** Open the form afresh on the incident as it stands; closing it puts the change away. */
  const toggle = () => {
    setConfirming(null)
    setBlocked(null)
    if (open) {
      setForm(MARKING_FORM.empty)
      return
    }
    setForm({ open: true, marking: draftOf(incident.marking), openedOn: incident, releasable: '', recipients: '' })
    runner.clear()
  }
  const send = (marking: Marking, version: number) => {
    setConfirming(null)
    void runner.run(
      {
        type: 'incident.set_marking',
        incidentId: incident.incidentId,
        marking,
        expectedVersion: version,
      },
      // the copy it was decided on: a conflict says what changed since (and "you saw")
      runner.basisOf(openedOn),
    )
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const after = markingOf(draft)
    const basis = runner.basisOf(openedOn)
    const version = basis.version
    // the same marking again (C20), or what was marked stricter restated wider (R14): said, not sent
    const refused = markingBlocked(
      after,
      { marking: basis.marking, statedMarking: incident.statedMarking },
      session?.user,
    )
    if (refused !== null) {
      setBlocked(refused)
      return
    }
    const lost = noLongerSeenBy(incident.marking, after, incident.organisation, {
      reportedBy: incident.reportedBy,
      caller: session?.user,
    })
    const widen = widens(incident.marking, after)
    if (lost.length > 0 || widen) setConfirming({ lost, widen, marking: after, version })
    else send(after, version)
  }

  return (
    <div className="marking-control no-print">
      <button
        type="button"
        className="link-button"
        data-testid="marking-change"
        aria-expanded={open}
        aria-controls={formId}
        onClick={toggle}
      >
        {open ? 'Cancel marking change' : 'Change marking'}
      </button>
      {open && (
        <form id={formId} className="marking-form" data-testid="marking-form" onSubmit={submit}>
          <div className="row">
            <label>
              TLP{' '}
              <select
                className="marking-select"
                data-testid="marking-tlp"
                value={draft.tlp}
                onChange={(e) => setDraft({ ...draft, tlp: e.target.value as Tlp })}
              >
                {TLP_LEVELS.map((tlp) => (
                  <option key={tlp} value={tlp}>
                    {tlp}
                  </option>
                ))}
              </select>
            </label>
            <label>
              PAP{' '}
              <select
                className="marking-select"
                data-testid="marking-pap"
                value={draft.pap}
                onChange={(e) => setDraft({ ...draft, pap: e.target.value as Pap | '' })}
              >
                <option value="">none</option>
                {PAP_LEVELS.map((pap) => (
                  <option key={pap} value={pap}>
                    {pap}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <NameList
            label="Releasable to"
            hint="organisations, nations or communities; none: as the TLP says"
            testid="marking-releasable"
            names={draft.releasableTo}
            suggestions="teams"
            onChange={(releasableTo) => setDraft({ ...draft, releasableTo })}
            text={form.releasable}
            onText={(releasable) => setForm({ releasable })}
          />
          {draft.tlp === 'RED' && (
            <NameList
              label="Recipients"
              hint="user ids; you, its author, always see it"
              testid="marking-recipients"
              names={draft.recipients}
              suggestions="people"
              onChange={(recipients) => setDraft({ ...draft, recipients })}
              text={form.recipients}
              onText={(recipients) => setForm({ recipients })}
            />
          )}
          {blocked !== null && (
            <p className="conflict" role="alert" data-testid="marking-blocked" data-reason={blocked.reason}>
              {blocked.text}
            </p>
          )}
          {confirming ? (
            <div
              className="conflict"
              role="alertdialog"
              aria-labelledby={confirming.lost.length > 0 ? `${formId}-narrow` : `${formId}-widen`}
              data-testid="marking-confirm"
            >
              {confirming.widen && (
                <p id={`${formId}-widen`} data-testid="marking-confirm-widen">
                  This shows incident {incident.incidentId} to those the new marking reaches: they receive it as it
                  stands (its title, summary, severity, networks and attack source).
                </p>
              )}
              {confirming.lost.length > 0 && (
                <>
                  <p id={`${formId}-narrow`}>
                    This narrows who sees incident {incident.incidentId}. Who will no longer see it (what they already
                    received stays with them):
                  </p>
                  <ul>
                    {confirming.lost.map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                </>
              )}
              <div className="row">
                <button
                  type="button"
                  className="button primary"
                  data-testid="marking-confirm-send"
                  disabled={runner.pending}
                  onClick={() => send(confirming.marking, confirming.version)}
                >
                  {confirming.lost.length > 0 ? 'Narrow the marking' : 'Widen the marking'}
                </button>
                <button type="button" className="button" onClick={() => setConfirming(null)}>
                  Back
                </button>
              </div>
            </div>
          ) : (
            <div className="row">
              <button type="submit" className="button primary" data-testid="marking-send" disabled={runner.pending}>
                Change marking
              </button>
            </div>
          )}
          <CommandOutcome runner={runner} shown={incident} />
        </form>
      )}
    </div>
  )
}

/** A list of names as removable chips, and a field to add more (typed, comma separated, or suggested). */
function NameList({
  label,
  hint,
  testid,
  names,
  suggestions,
  onChange,
  text,
  onText,
}: {
  label: string
  hint: string
  testid: string
  names: readonly string[]
  suggestions: 'teams' | 'people'
  onChange: (names: string[]) => void
  /** The names being typed, kept by the caller (a draft). */
  text: string
  onText: (text: string) => void
}) {
  const people = usePeople()
  const options = suggestions === 'teams' ? people.teams : people.people
  const id = useId()
  const add = () => {
    const more = namesIn(text).filter((name) => !names.includes(name))
    if (more.length > 0) onChange([...names, ...more])
    onText('')
  }
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault()
      add()
    }
  }
  return (
    <fieldset className="name-list" data-testid={testid}>
      <legend>{label}</legend>
      {names.length > 0 ? (
        <ul className="chips" aria-label={label}>
          {names.map((name) => (
            <li key={name} className="chip" data-testid={`${testid}-name`}>
              {name}{' '}
              <button
                type="button"
                className="link"
                aria-label={`Remove ${name}`}
                onClick={() => onChange(names.filter((n) => n !== name))}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">none</p>
      )}
      <div className="row">
        <input
          className="input grow"
          aria-label={`Add to ${label.toLowerCase()}`}
          placeholder={hint}
          list={`${id}-options`}
          data-testid={`${testid}-input`}
          value={text}
          onChange={(e) => onText(e.target.value)}
          onKeyDown={onKey}
        />
        <button type="button" className="button" data-testid={`${testid}-add`} onClick={add} disabled={!text.trim()}>
          Add
        </button>
      </div>
      <datalist id={`${id}-options`}>
        {options.map((option) => (
          <option key={option.id} value={option.id}>
            {option.label}
          </option>
        ))}
      </datalist>
    </fieldset>
  )
}
