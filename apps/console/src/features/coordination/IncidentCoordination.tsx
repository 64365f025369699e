/** The coordination part of the incident detail panel: actions, links, network states, tasks, comments, presence. */
import {
  commentsForIncident,
  extractMentions,
  type IncidentState,
  type LinkRelation,
  type NetworkState,
  networkStateOf,
  tasksForIncident,
} from '@watchfloor/core'
import {
  type Command,
  IncidentNetworkState,
  IncidentRelation,
  type IncidentStatus,
  type Severity,
} from '@watchfloor/protocol'
import { type FormEvent, type ReactNode, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import { type Session, useWatchfloor } from '../../data/store.ts'
import { SeverityLabel } from '../../ui/badges.tsx'
import { formatTime } from '../../ui/format.ts'
import { useServerNow } from '../../ui/useNow.ts'
import { viewStore } from '../../view/viewStore.ts'
import { CreateTaskForm, NEW_TASK_FORM, PersonName, TaskCard } from '../tasks/TaskCard.tsx'
import { Combobox, MentionTextarea } from './Combobox.tsx'
import { othersViewing, presenceKey, usePresence } from './coordination.ts'
import { choose, type Draft, rebase, startDraft, viewDraft } from './draft.ts'
import { draftForm, useDraft } from './formDrafts.ts'
import { chosenOption, incidentOptions, type Names } from './people.ts'
import { can, escalationChoices, statusChoices } from './permissions.ts'
import { ACKNOWLEDGE_ACTION, AcknowledgeButton, acknowledge, CommandOutcome, useCommand } from './useCommand.tsx'
import { usePeople } from './usePeople.ts'
import { isWithdrawn, withdrawnStore } from './withdrawn.ts'

const RELATION_LABELS: Record<LinkRelation, string> = {
  related: 'related to',
  duplicate_of: 'duplicate of',
  duplicated_by: 'duplicated by',
  merged_into: 'merged into',
  merged_from: 'merged from',
}

export function PresenceLine({ incidentId }: { incidentId: string }) {
  const viewers = usePresence(incidentId)
  const session = useWatchfloor((s) => s.session)
  const others = othersViewing(viewers, session ?? undefined)
  if (others.length === 0) return null
  return (
    <p className="presence" data-testid="presence">
      also viewing:{' '}
      {others.map((v, i) => (
        <span key={presenceKey(v)}>
          {i > 0 && ', '}
          <strong>{v.displayName ?? v.user}</strong> <span className="muted">({v.organisation})</span>
        </span>
      ))}
    </p>
  )
}

/** Escalate: the severity chosen (a draft, draft.ts) and the reason typed. */
export const ESCALATE_FORM = draftForm<{ choice: Draft<Severity> | null; reason: string }>('escalate', {
  choice: null,
  reason: '',
})
/** Set status: the status chosen (a draft, draft.ts) and the reason typed. */
export const STATUS_FORM = draftForm<{ choice: Draft<IncidentStatus> | null; reason: string }>('status', {
  choice: null,
  reason: '',
})
/** Link: the relation, the other incident as typed, and the one picked from the list. */
export const LINK_FORM = draftForm<{ relation: IncidentRelation; other: string; otherId: string }>(
  'link',
  { relation: 'related', other: '', otherId: '' },
  // linked: the relation stays chosen for the next link
  (draft) => ({ ...draft, other: '', otherId: '' }),
)
/** A comment: its body, and the task it is about ('' for the incident). */
export const COMMENT_FORM = draftForm<{ body: string; taskId: string }>('comment', { body: '', taskId: '' })
/** A network's state in an incident: its last action, with nothing typed. */
const NETWORK_STATE_ACTION = draftForm<object>('incident.network_state', {})

function Section({ title, children, testid }: { title: ReactNode; children: ReactNode; testid?: string }) {
  return (
    <section className="coord-section" data-testid={testid}>
      <h3>{title}</h3>
      {children}
    </section>
  )
}

/**
 * Acknowledge, escalate, set status. Acknowledge sends the version the panel shows; escalate and set
 * status are drafts (draft.ts): the choice made stays the person's, and the command expects the
 * version the draft was started on.
 */
function IncidentActions({ incident, session }: { incident: IncidentState; session: Session | null }) {
  const ack = useCommand({ of: { incidentId: incident.incidentId }, form: ACKNOWLEDGE_ACTION })
  const [acknowledging, setAcknowledging] = useDraft({ incidentId: incident.incidentId }, ACKNOWLEDGE_ACTION)
  const choices = escalationChoices(incident)
  // what was typed outlives the panel (a picture opened again), for this viewer (formDrafts.ts)
  const [escalating, setEscalating] = useDraft({ incidentId: incident.incidentId }, ESCALATE_FORM)
  const { choice: escalation, reason } = escalating
  const statuses = statusChoices(incident.status)
  const [setting, setSetting] = useDraft({ incidentId: incident.incidentId }, STATUS_FORM)
  const { choice: nextStatus, reason: statusReason } = setting
  // the forms' last actions are kept with their drafts: sent again after a picture opened again, once.
  // A draft ends once its command is applied (sent from the form, or retried), and is based on the
  // target as a conflict reported it once the person was told what changed: on the answer itself,
  // which may come once the panel was shown again
  const escalate = useCommand({
    of: { incidentId: incident.incidentId },
    form: ESCALATE_FORM,
    answered: (r) => {
      if (!r.ok && r.kind === 'conflict' && r.current) {
        const current = r.current
        setEscalating((draft) => ({ ...draft, choice: rebase(draft.choice, current) }))
      }
    },
  })
  const status = useCommand({
    of: { incidentId: incident.incidentId },
    form: STATUS_FORM,
    answered: (r) => {
      if (!r.ok && r.kind === 'conflict' && r.current) {
        const current = r.current
        setSetting((draft) => ({ ...draft, choice: rebase(draft.choice, current) }))
      }
    },
  })
  const mayAck = can(session, 'incident.acknowledge', incident)
  const mayEscalate = can(session, 'incident.escalate', incident)
  const maySetStatus = can(session, 'incident.set_status', incident)
  if (!mayAck && !mayEscalate && !maySetStatus && !ack.result && !escalate.result && !status.result) return null

  const severityShown = viewDraft(escalation, choices)
  const submitEscalation = (e: FormEvent) => {
    e.preventDefault()
    const severity = severityShown.value
    if (!severity || !reason.trim()) return
    const basis = escalate.basisOf(escalation?.basis ?? incident)
    void escalate.run(
      {
        type: 'incident.escalate',
        incidentId: incident.incidentId,
        severity,
        reason: reason.trim(),
        expectedVersion: basis.version,
      },
      basis,
    )
  }
  const statusShown = viewDraft(nextStatus, statuses)
  const submitStatus = (e: FormEvent) => {
    e.preventDefault()
    const chosen = statusShown.value
    if (!chosen) return
    const basis = status.basisOf(nextStatus?.basis ?? incident)
    const command: Command = {
      type: 'incident.set_status',
      incidentId: incident.incidentId,
      status: chosen,
      expectedVersion: basis.version,
      ...(statusReason.trim() ? { reason: statusReason.trim() } : {}),
    }
    void status.run(command, basis)
  }

  return (
    <Section title="Actions" testid="incident-actions">
      {mayAck && (
        // Enter in the note acknowledges, as Enter in the escalation's reason escalates
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            acknowledge(ack, incident, acknowledging.note)
          }}
        >
          <AcknowledgeButton runner={ack} incident={incident} testid="action-acknowledge" note={acknowledging.note} />
          <input
            className="input grow"
            data-testid="acknowledge-note"
            aria-label="Note with the acknowledgement (optional)"
            placeholder="Note (optional): what was done, who was told"
            maxLength={2000}
            value={acknowledging.note}
            onChange={(e) => setAcknowledging({ note: e.target.value })}
          />
        </form>
      )}
      <CommandOutcome runner={ack} shown={incident} />
      {mayEscalate && (
        <form className="row" onSubmit={submitEscalation}>
          <select
            data-testid="escalate-severity"
            aria-label="Escalate to"
            value={severityShown.value ?? ''}
            onChange={(e) =>
              setEscalating({
                choice: choose(escalation, e.target.value as Severity, choices, escalate.basisOf(incident)),
              })
            }
          >
            {severityShown.value === undefined && (
              <option value="" disabled>
                choose again
              </option>
            )}
            {choices.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <input
            className="input grow"
            data-testid="escalate-reason"
            placeholder="Reason for escalating"
            value={reason}
            onChange={(e) =>
              setEscalating({
                reason: e.target.value,
                choice: startDraft(escalation, choices, escalate.basisOf(incident)),
              })
            }
            required
          />
          <button
            type="submit"
            className="button"
            data-testid="action-escalate"
            disabled={escalate.pending || severityShown.value === undefined}
          >
            Escalate
          </button>
          {severityShown.gone !== undefined && <EscalationGone incident={incident} gone={severityShown.gone} />}
        </form>
      )}
      {/* escalated to the top meanwhile: no form is left, but the draft is not dropped unsaid */}
      {!mayEscalate && choices.length === 0 && severityShown.gone !== undefined && (
        <EscalationGone incident={incident} gone={severityShown.gone} />
      )}
      <CommandOutcome runner={escalate} shown={incident} />
      {maySetStatus && (
        <form className="row" onSubmit={submitStatus}>
          <select
            data-testid="status-select"
            aria-label="New status"
            value={statusShown.value ?? ''}
            onChange={(e) =>
              setSetting({
                choice: choose(nextStatus, e.target.value as IncidentStatus, statuses, status.basisOf(incident)),
              })
            }
          >
            {statusShown.value === undefined && (
              <option value="" disabled>
                choose again
              </option>
            )}
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <input
            className="input grow"
            data-testid="status-reason"
            placeholder="Reason (optional)"
            value={statusReason}
            onChange={(e) =>
              setSetting({
                reason: e.target.value,
                choice: startDraft(nextStatus, statuses, status.basisOf(incident)),
              })
            }
          />
          <button
            type="submit"
            className="button"
            data-testid="action-set-status"
            disabled={status.pending || statusShown.value === undefined}
          >
            Set status
          </button>
          {statusShown.gone !== undefined && (
            <p className="notice draft-gone" role="alert" data-testid="status-gone">
              Already {incident.status}, changed meanwhile: choose again.
            </p>
          )}
        </form>
      )}
      <CommandOutcome runner={status} shown={incident} />
    </Section>
  )
}

/** The severity a draft chose is no longer above the incident's: say so, never choose another for them. */
function EscalationGone({ incident, gone }: { incident: IncidentState; gone: Severity }) {
  const left = escalationChoices(incident).length > 0
  return (
    <p className="notice draft-gone" role="alert" data-testid="escalate-gone">
      Already {incident.severity}, changed meanwhile:{' '}
      {gone === incident.severity ? '' : `${gone} is no longer above it; `}
      {left ? 'choose again.' : 'nothing is left to escalate to.'}
    </p>
  )
}

function LinksSection({ incident, session }: { incident: IncidentState; session: Session | null }) {
  const runner = useCommand({ of: { incidentId: incident.incidentId }, form: LINK_FORM })
  const incidents = useWatchfloor((s) => s.state.incidents)
  const [linking, setLinking] = useDraft({ incidentId: incident.incidentId }, LINK_FORM)
  const { relation, other, otherId } = linking
  /** What was typed names no incident, or several: said instead of sending it. */
  const [problem, setProblem] = useState<string | null>(null)
  const mayLink = can(session, 'incident.link', incident)
  const links = incident.links ?? []
  const withdrawn = useStore(withdrawnStore)
  // one no longer shared with this viewer [C18] takes no link either
  const candidates = useMemo(
    () =>
      incidentOptions(incidents.values(), incident.incidentId).filter(
        (option) => !isWithdrawn(session, option.id, withdrawn),
      ),
    [incidents, incident.incidentId, session, withdrawn],
  )
  if (links.length === 0 && !mayLink && !incident.mergedInto) return null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    // the incident chosen in the list, else one whose id or exact title was typed, else the only match
    const choice = chosenOption(candidates, other, otherId)
    if ('problem' in choice) {
      setProblem(choice.problem)
      return
    }
    setProblem(null)
    const chosen = choice.id
    // answered ok (or shown applied), the form ends as `afterOk` says: the relation stays chosen
    void runner.run(
      {
        type: 'incident.link',
        incidentId: incident.incidentId,
        otherIncidentId: chosen,
        relation,
        expectedVersion: runner.versionOf(incident),
      },
      incident,
    )
  }
  return (
    <Section title={`Links (${links.length})`} testid="incident-links">
      {incident.mergedInto && (
        <p className="notice">
          Merged into{' '}
          <button
            type="button"
            className="link"
            title={incident.mergedInto}
            onClick={() => viewStore.getState().select(incident.mergedInto!)}
          >
            {incidents.get(incident.mergedInto)?.title ?? incident.mergedInto}
          </button>
          : work on the survivor.
        </p>
      )}
      {links.length > 0 && (
        <ul className="links">
          {links.map((link) => (
            <li key={link.incidentId} data-testid="incident-link" data-relation={link.relation}>
              {RELATION_LABELS[link.relation]}{' '}
              <button
                type="button"
                className="link"
                title={link.incidentId}
                onClick={() => viewStore.getState().select(link.incidentId)}
              >
                {incidents.get(link.incidentId)?.title ?? link.incidentId}
              </button>{' '}
              <span className="muted">{formatTime(link.linkedAt)}</span>
            </li>
          ))}
        </ul>
      )}
      {mayLink && (
        <form className="row" onSubmit={submit}>
          <select
            data-testid="link-relation"
            aria-label="Relation"
            value={relation}
            onChange={(e) => setLinking({ relation: e.target.value as IncidentRelation })}
          >
            {IncidentRelation.options.map((r) => (
              <option key={r} value={r}>
                {r === 'merged_into' ? 'merge into' : RELATION_LABELS[r]}
              </option>
            ))}
          </select>
          <span className="grow">
            <Combobox
              label="Other incident"
              testid="link-other"
              value={other}
              options={candidates}
              onChange={(text) => {
                setProblem(null)
                setLinking({ other: text, otherId: '' })
              }}
              onPick={(option) => {
                setProblem(null)
                setLinking({ other: option.label, otherId: option.id })
              }}
              placeholder="Other incident: type part of its title"
              required
            />
          </span>
          <button type="submit" className="button" data-testid="action-link" disabled={runner.pending}>
            {relation === 'merged_into' ? 'Merge' : 'Link'}
          </button>
        </form>
      )}
      {problem && (
        <p className="error" role="alert" data-testid="link-problem">
          {problem}
        </p>
      )}
      <CommandOutcome runner={runner} shown={incident} />
    </Section>
  )
}

function NetworksSection({
  incident,
  networks,
  session,
}: {
  incident: IncidentState
  networks: ReadonlyMap<string, NetworkState>
  session: Session | null
}) {
  // its last action kept apart from the form (nothing typed), so a lost answer still settles
  const runner = useCommand({ of: { incidentId: incident.incidentId }, form: NETWORK_STATE_ACTION })
  const maySet = can(session, 'network.set_state', incident)
  const ids = useMemo(
    () => [...new Set([...incident.affectedNetworks, ...Object.keys(incident.networkStates ?? {})])],
    [incident.affectedNetworks, incident.networkStates],
  )
  const set = (networkId: string, state: IncidentNetworkState) =>
    void runner.run(
      {
        type: 'network.set_state',
        incidentId: incident.incidentId,
        networkId,
        state,
        expectedVersion: runner.versionOf(incident),
      },
      incident,
    )
  return (
    <Section title={`Affected networks (${ids.length})`} testid="incident-networks">
      <ul className="networks">
        {ids.map((id) => {
          const network = networks.get(id)
          const state = networkStateOf(incident, id) ?? 'affected'
          return (
            <li key={id} data-testid="network-state" data-network-id={id} data-state={state}>
              {network ? (
                <>
                  {network.name} <span className="muted">{network.nation}</span> <span className="muted">reports</span>{' '}
                  <span className={`posture posture-${network.posture}`} title="The posture the network reports">
                    {network.posture}
                  </span>
                  {incident.status !== 'closed' && (
                    <>
                      {' '}
                      <span className="muted">· impact</span>{' '}
                      <span data-testid="network-impact" data-impact={incident.severity}>
                        <SeverityLabel severity={incident.severity} />
                      </span>
                    </>
                  )}
                </>
              ) : (
                <>
                  <span className="mono">{id}</span> <span className="muted">(not visible to you)</span>
                </>
              )}{' '}
              ·{' '}
              {maySet ? (
                <select
                  aria-label={`State of ${network?.name ?? id} in this incident`}
                  data-testid="network-state-select"
                  value={state}
                  disabled={runner.pending}
                  onChange={(e) => set(id, e.target.value as IncidentNetworkState)}
                >
                  {IncidentNetworkState.options.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              ) : (
                <span className={`net-state net-state-${state}`}>{state}</span>
              )}
            </li>
          )
        })}
      </ul>
      <CommandOutcome runner={runner} shown={incident} />
    </Section>
  )
}

function TasksSection({ incident, session }: { incident: IncidentState; session: Session | null }) {
  const state = useWatchfloor((s) => s.state)
  const tasks = useMemo(() => tasksForIncident(state, incident.incidentId), [state, incident.incidentId])
  const now = useServerNow(15_000)
  // the new task's form is a draft too: open, with what was typed, after a picture opened again
  const [newTask, setNewTask] = useDraft({ incidentId: incident.incidentId }, NEW_TASK_FORM)
  const adding = newTask.open
  const mayCreate = can(session, 'task.create', incident)
  return (
    <Section
      title={
        <>
          Tasks ({tasks.length}){' '}
          {mayCreate && (
            <button
              type="button"
              className="link"
              data-testid="task-new"
              aria-expanded={adding}
              // closing it is putting it away: what was typed goes
              onClick={() => setNewTask(adding ? NEW_TASK_FORM.empty : { open: true })}
            >
              {adding ? 'close' : '+ new task'}
            </button>
          )}
        </>
      }
      testid="incident-tasks"
    >
      {adding && mayCreate && <CreateTaskForm incident={incident} />}
      {tasks.map((task) => (
        <TaskCard key={task.taskId} task={task} now={now} />
      ))}
      {tasks.length === 0 && !adding && <p className="empty">No tasks.</p>}
    </Section>
  )
}

/** `@user` mentions in a comment body, highlighted: by name when the directory knows it (the `@id` as its title). */
export function CommentBody({ body, names }: { body: string; names?: Names }) {
  const parts = body.split(/((?<![\p{L}\p{N}_.@-])@[\p{L}\p{N}_][\p{L}\p{N}_.-]*)/u)
  return (
    <span className="comment-body">
      {parts.map((part, i) => {
        if (i % 2 === 0) return part
        const userId = part.slice(1).replace(/[.-]+$/, '')
        const name = names?.people.get(userId)
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one string never reorder
          <span key={i} className="mention" title={name === undefined ? undefined : `@${userId}`} data-user-id={userId}>
            {name === undefined ? part : `@${name}${part.slice(1 + userId.length)}`}
          </span>
        )
      })}
    </span>
  )
}

function CommentsSection({ incident, session }: { incident: IncidentState; session: Session | null }) {
  const state = useWatchfloor((s) => s.state)
  const comments = useMemo(() => commentsForIncident(state, incident.incidentId), [state, incident.incidentId])
  const tasks = useMemo(() => tasksForIncident(state, incident.incidentId), [state, incident.incidentId])
  const { people, names } = usePeople()
  // a comment sent again from the form shown again (a picture opened again) is the same comment
  const runner = useCommand({ of: { incidentId: incident.incidentId }, form: COMMENT_FORM })
  const [commenting, setCommenting] = useDraft({ incidentId: incident.incidentId }, COMMENT_FORM)
  const { body } = commenting
  // about the task it was typed for; one that has left the picture (no longer shared with this
  // viewer) is never swapped for the incident, whose audience may be wider [C4]: held, said, not sent
  const taskGone = commenting.taskId !== '' && !tasks.some((t) => t.taskId === commenting.taskId)
  const taskId = taskGone ? '' : commenting.taskId
  const mayPost = can(session, 'comment.post', incident)
  const mentions = extractMentions(body)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (!body.trim() || taskGone) return
    const command: Command = {
      type: 'comment.post',
      incidentId: incident.incidentId,
      body: body.trim(),
      mentions,
      ...(taskId ? { taskId } : {}),
    }
    // a comment adds, it changes nothing: it is not tied to a version (a conflict would only be in the way)
    // answered ok (or shown applied), the form is emptied (formDrafts.ts)
    void runner.run(command, incident)
  }
  return (
    <Section title={`Comments (${comments.length})`} testid="incident-comments">
      <ol className="comments">
        {comments.map((c) => (
          <li key={c.commentId} data-testid="comment" data-comment-id={c.commentId}>
            <div className="comment-head">
              <strong>{c.author ? <PersonName userId={c.author} names={names} /> : c.organisation}</strong>{' '}
              <span className="muted">{formatTime(c.postedAt)}</span>
              {c.taskId && (
                <span className="muted" title={c.taskId}>
                  {' '}
                  · on task {state.tasks.get(c.taskId)?.title ?? 'not visible to you'}
                </span>
              )}
            </div>
            <CommentBody body={c.body} names={names} />
          </li>
        ))}
      </ol>
      {comments.length === 0 && <p className="empty">No comments.</p>}
      {mayPost && (
        <form className="comment-form" onSubmit={submit}>
          <MentionTextarea
            testid="comment-body"
            placeholder="Comment… mention someone with @ and part of a name"
            value={body}
            people={people}
            onChange={(text) => setCommenting({ body: text })}
            required
          />
          <div className="row">
            {(tasks.length > 0 || taskGone) && (
              <select
                data-testid="comment-task"
                aria-label="About"
                value={taskGone ? commenting.taskId : taskId}
                onChange={(e) => setCommenting({ taskId: e.target.value })}
              >
                {taskGone && (
                  <option value={commenting.taskId} disabled>
                    on a task no longer shared with you
                  </option>
                )}
                <option value="">on the incident</option>
                {tasks.map((t) => (
                  <option key={t.taskId} value={t.taskId}>
                    on task: {t.title}
                  </option>
                ))}
              </select>
            )}
            {mentions.length > 0 && (
              <span className="muted" data-testid="comment-mentions">
                mentions{' '}
                {mentions.map((m) => (
                  <span
                    key={m}
                    className={people.some((p) => p.id === m) ? 'mention' : 'mention unknown'}
                    title={names.people.get(m)}
                  >
                    @{m}{' '}
                  </span>
                ))}
              </span>
            )}
            {taskGone && (
              <span className="conflict" role="status" data-testid="comment-task-gone">
                The task this was written about is no longer shared with you: choose where to post it.
              </span>
            )}
            <span className="spacer" />
            <button type="submit" className="button" data-testid="comment-post" disabled={runner.pending || taskGone}>
              Post
            </button>
          </div>
        </form>
      )}
      <CommandOutcome runner={runner} shown={incident} />
    </Section>
  )
}

export function IncidentCoordination({
  incident,
  networks,
}: {
  incident: IncidentState
  networks: ReadonlyMap<string, NetworkState>
}) {
  const session = useWatchfloor((s) => s.session)
  return (
    <>
      <IncidentActions incident={incident} session={session} />
      <NetworksSection incident={incident} networks={networks} session={session} />
      <LinksSection incident={incident} session={session} />
      <TasksSection incident={incident} session={session} />
      <CommentsSection incident={incident} session={session} />
    </>
  )
}
