/** The people directory for the signed-in session, read once a session and view (`people.ts`). */
import { pictureOrganisations, type SummaryNames, type Visible } from '@watchfloor/core'
import { useEffect, useMemo } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import {
  type Names,
  namesOf,
  type Option,
  type PeopleReply,
  peopleDirectory,
  personOptions,
  summaryNames,
  teamOptions,
  teamsReaching,
  usePeopleDirectory,
} from './people.ts'

export interface People {
  names: Names
  /** People one may assign to or mention: the directory's, then those the picture names. */
  people: Option[]
  /** Teams one may assign to. */
  teams: Option[]
}

/** The directory's reply for this session (read once a session and view), or null meanwhile. */
function useDirectoryReply(): PeopleReply | null {
  const key = useWatchfloor((s) =>
    s.session
      ? `${s.session.user}|${s.session.organisation}|${s.session.viewingAs ? `${s.session.viewingAs.kind}:${s.session.viewingAs.id}` : ''}`
      : null,
  )
  useEffect(() => {
    if (key === null) peopleDirectory.getState().clear()
    else peopleDirectory.getState().load(key)
  }, [key])
  return usePeopleDirectory((s) => (s.key === key ? s.reply : null))
}

/** Names by id from the directory (cheap: it follows the directory, not the picture). */
export function useNames(): Names {
  const reply = useDirectoryReply()
  return useMemo(() => namesOf(reply), [reply])
}

/** Names for core's `summarise(event, names)` (histories): titles from the picture, names from the directory. */
export function useSummaryNames(): SummaryNames {
  const names = useNames()
  const incidents = useWatchfloor((s) => s.state.incidents)
  const tasks = useWatchfloor((s) => s.state.tasks)
  const networks = useWatchfloor((s) => s.state.networks)
  return useMemo(() => summaryNames({ incidents, tasks, networks }, names), [incidents, tasks, networks, names])
}

/**
 * The people and teams to choose from: the directory's, then those the picture names. With
 * `reaching` (what a task's events will carry, core's `commandVisibility`), only the teams they
 * reach [C19].
 */
export function usePeople(reaching?: Visible): People {
  const reply = useDirectoryReply()
  const known = useKnownPeople()
  const own = useWatchfloor((s) => s.session?.organisation)
  return useMemo(() => {
    const teams = teamOptions(reply, known.organisations)
    return {
      names: namesOf(reply),
      people: personOptions(reply, known.users),
      teams: reaching === undefined ? teams : teamsReaching(teams, reply, reaching, own),
    }
  }, [reply, known, reaching, own])
}

/** Users and organisations this console has heard of (for the assignee and mention suggestions). */
export function useKnownPeople(): { users: string[]; organisations: string[] } {
  const state = useWatchfloor((s) => s.state)
  const session = useWatchfloor((s) => s.session)
  return useMemo(() => {
    const users = new Set<string>()
    const organisations = new Set<string>()
    if (session) {
      users.add(session.user)
      organisations.add(session.organisation)
    }
    for (const organisation of pictureOrganisations(state)) organisations.add(organisation)
    for (const incident of state.incidents.values()) {
      if (incident.reportedBy) users.add(incident.reportedBy)
      if (incident.acknowledgedBy) users.add(incident.acknowledgedBy)
    }
    for (const task of state.tasks.values()) {
      if (task.createdBy) users.add(task.createdBy)
      if (task.acceptedBy) users.add(task.acceptedBy)
      if (task.assignee?.kind === 'user') users.add(task.assignee.userId)
    }
    for (const comment of state.comments.values()) {
      if (comment.author) users.add(comment.author)
      for (const m of comment.mentions) users.add(m)
    }
    return { users: [...users].sort(), organisations: [...organisations].sort() }
  }, [state, session])
}
