/**
 * The Sharing page: the directory of partner organisations and the communities a marking's
 * `releasableTo` may name. Everyone who opens it sees every organisation and the communities the
 * server lists for them (an admin: all; anyone else: their organisation's). Admins also add
 * organisations and communities, rename them, change a community's members and delete; every
 * refusal is shown where the change was asked, as the server worded it, naming the fields of
 * `details.issues`.
 *
 * Below the directory: the partner feeds pulled in (Feeds.tsx: admins and liaisons; admins manage
 * them), what partners can pull from this floor (FeedsOut.tsx), and the import of STIX and MISP
 * files (Import.tsx: whoever may post).
 */
import { type FormEvent, type ReactNode, useCallback, useEffect, useId, useMemo, useRef, useState } from 'react'
import { useWatchfloor } from '../../data/store.ts'
import { formatTime } from '../../ui/format.ts'
import { mayViewAs } from '../coordination/permissions.ts'
import { ViewAsButton } from '../viewas/ViewAs.tsx'
import {
  type Community,
  candidates,
  communitiesByOrganisation,
  createCommunity,
  createOrganisation,
  type Directory,
  deleteCommunity,
  deleteOrganisation,
  describeFormError,
  type FormError,
  formErrorOf,
  headlineOf,
  issuesFor,
  KIND_LABELS,
  kindLabel,
  loadDirectory,
  mayEditDirectory,
  ORGANISATION_KINDS,
  type Organisation,
  renameOrganisation,
  updateCommunity,
  withMember,
  withoutMember,
} from './directory.ts'
import { FeedsIn } from './Feeds.tsx'
import { FeedsOut } from './FeedsOut.tsx'
import { mayReadFeeds } from './feeds.ts'
import { EntryActions, ErrorNote, PageControls, TextField, useAction, useCreateForm } from './forms.tsx'
import { ImportZone } from './Import.tsx'
import { mayImport } from './imports.ts'
import { mayReadFeedsOut } from './outbound.ts'

/** The field labels, to name the fields of a 400's `details.issues`. */
const ORGANISATION_FIELDS: Readonly<Record<string, string>> = { id: 'Id', name: 'Name', nation: 'Nation', kind: 'Kind' }
const COMMUNITY_FIELDS: Readonly<Record<string, string>> = { id: 'Id', name: 'Name', members: 'Members' }

/** A new name for an organisation or a community, in place. */
function RenameForm({
  current,
  what,
  pending,
  error,
  onSave,
  onCancel,
  testId,
}: {
  current: string
  what: string
  pending: boolean
  error: FormError | null
  onSave: (name: string) => void
  onCancel: () => void
  testId: string
}) {
  const [name, setName] = useState(current)
  const inputRef = useRef<HTMLInputElement>(null)
  const id = useId()
  useEffect(() => {
    inputRef.current?.select()
  }, [])
  const issues = issuesFor(error, 'name')
  return (
    <form
      className="sharing-rename"
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault()
        onSave(name)
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel()
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        New name of {what}
      </label>
      <input
        id={id}
        ref={inputRef}
        className="input"
        data-testid={`${testId}-input`}
        value={name}
        aria-invalid={issues.length > 0 ? true : undefined}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit" className="button small primary" disabled={pending}>
        {pending ? 'Saving…' : 'Save'}
      </button>
      <button type="button" className="button small" onClick={onCancel}>
        Cancel
      </button>
    </form>
  )
}

function OrganisationRow({
  organisation,
  communities,
  editable,
  viewable,
  columns,
  onChanged,
}: {
  organisation: Organisation
  communities: readonly string[]
  editable: boolean
  /** A "View as" button (coordinators and admins). */
  viewable: boolean
  columns: number
  onChanged: () => Promise<void>
}) {
  const action = useAction()
  const [renaming, setRenaming] = useState(false)
  const { id } = organisation
  return (
    <>
      <tr data-testid="organisation-row" data-organisation-id={id}>
        <td className="mono nowrap">{id}</td>
        <td data-testid="organisation-name">
          {renaming ? (
            <RenameForm
              current={organisation.name}
              what={id}
              pending={action.pending}
              error={action.error}
              testId="organisation-rename"
              onCancel={() => {
                setRenaming(false)
                action.clear()
              }}
              onSave={(name) =>
                void action.run(async () => {
                  await renameOrganisation(id, name)
                  setRenaming(false)
                  await onChanged()
                })
              }
            />
          ) : (
            organisation.name
          )}
        </td>
        <td className="mono">{organisation.nation}</td>
        <td className="nowrap" title={organisation.kind}>
          {kindLabel(organisation.kind)}
        </td>
        <td data-testid="organisation-communities">
          {communities.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            communities.map((c) => (
              <span key={c} className="sharing-tag mono">
                {c}
              </span>
            ))
          )}
        </td>
        <td className="mono nowrap">{formatTime(organisation.updatedAt)}</td>
        {viewable && (
          <td>
            <ViewAsButton audience={{ kind: 'organisation', id }} name={organisation.name} />
          </td>
        )}
        {editable && (
          <td>
            <EntryActions
              kind="organisation"
              id={id}
              renaming={renaming}
              action={action}
              onRename={() => setRenaming(true)}
              onDelete={async () => {
                await deleteOrganisation(id)
                await onChanged()
              }}
            />
          </td>
        )}
      </tr>
      {action.error && (
        <tr>
          <td colSpan={columns} className="sharing-error-cell">
            <ErrorNote
              error={action.error}
              fields={ORGANISATION_FIELDS}
              onDismiss={action.clear}
              testId="organisation-error"
            />
          </td>
        </tr>
      )}
    </>
  )
}

function OrganisationsTable({
  directory,
  editable,
  viewable,
  onChanged,
}: {
  directory: Directory
  editable: boolean
  viewable: boolean
  onChanged: () => Promise<void>
}) {
  const memberships = useMemo(() => communitiesByOrganisation(directory), [directory])
  const columns = 6 + (editable ? 1 : 0) + (viewable ? 1 : 0)
  if (directory.organisations.length === 0) return <p className="empty">No organisations in the directory.</p>
  return (
    <table className="table sharing-table" data-testid="organisations-table">
      <thead>
        <tr>
          <th scope="col">Id</th>
          <th scope="col">Name</th>
          <th scope="col">Nation</th>
          <th scope="col">Kind</th>
          <th scope="col">Communities</th>
          <th scope="col">Updated (UTC)</th>
          {viewable && (
            <th scope="col">
              <span className="visually-hidden">View as</span>
            </th>
          )}
          {editable && (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {directory.organisations.map((organisation) => (
          <OrganisationRow
            key={organisation.id}
            organisation={organisation}
            communities={memberships.get(organisation.id) ?? []}
            editable={editable}
            viewable={viewable}
            columns={columns}
            onChanged={onChanged}
          />
        ))}
      </tbody>
    </table>
  )
}

function AddOrganisationForm({ onChanged }: { onChanged: () => Promise<void> }) {
  const {
    form: { id, name, nation, kind },
    set,
    action,
    added,
    submit,
  } = useCreateForm(
    () => ({ id: '', name: '', nation: '', kind: ORGANISATION_KINDS[0] as string }),
    async (typed) => (await createOrganisation(typed)).id,
    onChanged,
    // added: the kind stays chosen for the next one
    (typed) => ({ ...typed, id: '', name: '', nation: '' }),
  )
  const setId = set('id')
  const setName = set('name')
  const setNation = set('nation')
  const setKind = set('kind')
  const kindId = useId()
  const kindIssues = issuesFor(action.error, 'kind')
  return (
    <form className="sharing-form" data-testid="add-organisation" aria-labelledby={`${kindId}-title`} onSubmit={submit}>
      <h3 id={`${kindId}-title`}>Add an organisation</h3>
      <div className="sharing-fields">
        <TextField
          label="Id"
          field="id"
          value={id}
          onChange={setId}
          error={action.error}
          hint="lower case: a-z 0-9 . _ - (cert-ee)"
          testId="organisation-id"
        />
        <TextField
          label="Name"
          field="name"
          value={name}
          onChange={setName}
          error={action.error}
          testId="organisation-name-input"
        />
        <TextField
          label="Nation"
          field="nation"
          value={nation}
          onChange={setNation}
          error={action.error}
          hint="ISO code (EE) or an alliance body (ALLIANCE)"
          testId="organisation-nation"
          autoCapitalize="characters"
        />
        <div className="form-field">
          <label htmlFor={kindId}>Kind</label>
          <select
            id={kindId}
            className="input"
            data-testid="organisation-kind"
            value={kind}
            aria-invalid={kindIssues.length > 0 ? true : undefined}
            onChange={(e) => setKind(e.target.value)}
          >
            {ORGANISATION_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
          {kindIssues.length > 0 && (
            <span className="error field-issue">{kindIssues.map((i) => i.message).join('; ')}</span>
          )}
        </div>
        <button
          type="submit"
          className="button primary sharing-submit"
          data-testid="organisation-add"
          disabled={action.pending}
        >
          {action.pending ? 'Adding…' : 'Add organisation'}
        </button>
      </div>
      <ErrorNote
        error={action.error}
        fields={ORGANISATION_FIELDS}
        onDismiss={action.clear}
        testId="add-organisation-error"
      />
      {added && (
        <p className="hint" role="status">
          Added {added}.
        </p>
      )}
    </form>
  )
}

/** Organisations as checkboxes: a fieldset with its legend, each box labelled with the id and name. */
function MemberPicker({
  organisations,
  selected,
  onChange,
  error,
}: {
  organisations: readonly Organisation[]
  selected: readonly string[]
  onChange: (members: string[]) => void
  error: FormError | null
}) {
  const issues = issuesFor(error, 'members')
  const chosen = new Set(selected)
  return (
    <fieldset className="sharing-members" data-testid="community-members-picker" aria-invalid={issues.length > 0}>
      <legend>
        Members <span className="muted">({selected.length} chosen)</span>
      </legend>
      {organisations.length === 0 && <p className="empty">No organisations to choose from.</p>}
      {organisations.map((o) => (
        <label key={o.id} className="sharing-member-choice">
          <input
            type="checkbox"
            value={o.id}
            data-testid="community-member-choice"
            checked={chosen.has(o.id)}
            onChange={(e) => onChange(e.target.checked ? withMember(selected, o.id) : withoutMember(selected, o.id))}
          />
          <span className="mono">{o.id}</span> <span className="muted">{o.name}</span>
        </label>
      ))}
      {issues.length > 0 && (
        <span className="error field-issue">{issues.map((issue) => issue.message).join('; ')}</span>
      )}
    </fieldset>
  )
}

function AddCommunityForm({
  organisations,
  onChanged,
}: {
  organisations: readonly Organisation[]
  onChanged: () => Promise<void>
}) {
  const {
    form: { id, name, members },
    set,
    action,
    added,
    submit,
  } = useCreateForm(
    () => ({ id: '', name: '', members: [] as string[] }),
    async (typed) => (await createCommunity(typed)).id,
    onChanged,
  )
  const setId = set('id')
  const setName = set('name')
  const setMembers = set('members')
  const titleId = useId()
  return (
    <form className="sharing-form" data-testid="add-community" aria-labelledby={titleId} onSubmit={submit}>
      <h3 id={titleId}>Add a community</h3>
      <div className="sharing-fields">
        <TextField
          label="Id"
          field="id"
          value={id}
          onChange={setId}
          error={action.error}
          hint="lower case, not an organisation's id"
          testId="community-id"
        />
        <TextField
          label="Name"
          field="name"
          value={name}
          onChange={setName}
          error={action.error}
          testId="community-name-input"
        />
      </div>
      <MemberPicker organisations={organisations} selected={members} onChange={setMembers} error={action.error} />
      <div className="row">
        <button type="submit" className="button primary" data-testid="community-add" disabled={action.pending}>
          {action.pending ? 'Adding…' : 'Add community'}
        </button>
      </div>
      <ErrorNote error={action.error} fields={COMMUNITY_FIELDS} onDismiss={action.clear} testId="add-community-error" />
      {added && (
        <p className="hint" role="status">
          Added {added}.
        </p>
      )}
    </form>
  )
}

function CommunityCard({
  community,
  organisations,
  editable,
  onChanged,
}: {
  community: Community
  organisations: readonly Organisation[]
  editable: boolean
  onChanged: () => Promise<void>
}) {
  const action = useAction()
  const [renaming, setRenaming] = useState(false)
  const [adding, setAdding] = useState('')
  const addId = useId()
  const titleId = useId()
  const names = useMemo(() => new Map(organisations.map((o) => [o.id, o.name])), [organisations])
  const open = useMemo(() => candidates(organisations, community), [organisations, community])
  const { id } = community
  const change = (patch: Parameters<typeof updateCommunity>[1]) =>
    action.run(async () => {
      await updateCommunity(id, patch)
      await onChanged()
    })
  const addMember = (e: FormEvent) => {
    e.preventDefault()
    if (!adding) return
    void change({ members: withMember(community.members, adding) }).then((ok) => {
      if (ok) setAdding('')
    })
  }
  return (
    <article className="sharing-community" data-testid="community" data-community-id={id} aria-labelledby={titleId}>
      <div className="sharing-community-head">
        <h3 id={titleId}>
          <span data-testid="community-name">{community.name}</span> <span className="mono muted">{id}</span>
        </h3>
        <ViewAsButton audience={{ kind: 'community', id }} name={community.name} />
        {editable && (
          <EntryActions
            kind="community"
            id={id}
            renaming={renaming}
            action={action}
            onRename={() => setRenaming(true)}
            onDelete={async () => {
              await deleteCommunity(id)
              await onChanged()
            }}
          />
        )}
      </div>
      <p className="muted sharing-meta">
        {community.members.length} {community.members.length === 1 ? 'member' : 'members'} · updated{' '}
        <span className="mono">{formatTime(community.updatedAt)}</span>
      </p>
      {renaming && (
        <RenameForm
          current={community.name}
          what={id}
          pending={action.pending}
          error={action.error}
          testId="community-rename"
          onCancel={() => {
            setRenaming(false)
            action.clear()
          }}
          onSave={(name) =>
            void change({ name }).then((ok) => {
              if (ok) setRenaming(false)
            })
          }
        />
      )}
      {community.members.length === 0 ? (
        <p className="empty">No members.</p>
      ) : (
        <ul className="sharing-member-list" aria-label={`Members of ${community.name}`}>
          {community.members.map((member) => (
            <li key={member} data-testid="community-member" data-member-id={member}>
              <span className="mono">{member}</span>
              {names.has(member) && <span className="muted"> {names.get(member)}</span>}
              {editable && (
                <button
                  type="button"
                  className="link"
                  data-testid="community-member-remove"
                  aria-label={`Remove ${member} from ${id}`}
                  title={`Remove ${member} from ${id}`}
                  disabled={action.pending}
                  onClick={() => void change({ members: withoutMember(community.members, member) })}
                >
                  ✕
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <form className="row" data-testid="community-add-member" onSubmit={addMember}>
          <div className="form-field">
            <label htmlFor={addId}>Add a member to {id}</label>
            <select
              id={addId}
              className="input"
              data-testid="community-add-member-select"
              value={adding}
              onChange={(e) => setAdding(e.target.value)}
            >
              <option value="">
                {open.length === 0 ? 'every organisation is a member' : 'choose an organisation'}
              </option>
              {open.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.id} · {o.name}
                </option>
              ))}
            </select>
          </div>
          <button
            type="submit"
            className="button small"
            data-testid="community-add-member-submit"
            disabled={action.pending || adding === ''}
          >
            Add
          </button>
        </form>
      )}
      <ErrorNote error={action.error} fields={COMMUNITY_FIELDS} onDismiss={action.clear} testId="community-error" />
    </article>
  )
}

type Loaded = {
  directory: Directory | null
  /** When the directory on screen was read (ISO). */
  at: string | null
  loading: boolean
  error: FormError | null
}

export function SharingPage() {
  const session = useWatchfloor((s) => s.session)
  const editable = mayEditDirectory(session)
  const viewable = mayViewAs(session)
  const viewingAs = session?.viewingAs
  const feedsShown = mayReadFeeds(session)
  const feedsOutShown = mayReadFeedsOut(session)
  const importing = mayImport(session)
  /** Bumped by Reload: the feeds are read again with the directory. */
  const [reloadKey, setReloadKey] = useState(0)
  const [loaded, setLoaded] = useState<Loaded>({ directory: null, at: null, loading: true, error: null })
  const latest = useRef(0)

  /** Read the directory again; an older answer arriving late is dropped. */
  const reload = useCallback(async () => {
    const call = ++latest.current
    setLoaded((l) => ({ ...l, loading: true }))
    try {
      const directory = await loadDirectory()
      if (call === latest.current) setLoaded({ directory, at: new Date().toISOString(), loading: false, error: null })
    } catch (error) {
      if (call === latest.current) setLoaded((l) => ({ ...l, loading: false, error: formErrorOf(error) }))
    }
  }, [])

  useEffect(() => {
    void reload()
  }, [reload])

  const { directory } = loaded
  let communities: ReactNode = null
  if (directory) {
    communities =
      directory.communities.length === 0 ? (
        <p className="empty" data-testid="communities-empty">
          {editable
            ? 'No communities yet.'
            : `${session?.organisation ?? 'Your organisation'} belongs to no community.`}
        </p>
      ) : (
        <div className="sharing-communities" data-testid="communities">
          {directory.communities.map((community) => (
            <CommunityCard
              key={community.id}
              community={community}
              organisations={directory.organisations}
              editable={editable}
              onChanged={reload}
            />
          ))}
        </div>
      )
  }

  return (
    <main className="sharing" data-testid="sharing-page" data-editable={editable}>
      <PageControls
        page="sharing"
        loading={loaded.loading}
        readAt={loaded.at}
        onReload={() => {
          setReloadKey((k) => k + 1)
          void reload()
        }}
      />
      <div className="sharing-body" aria-busy={loaded.loading}>
        <h1>Sharing</h1>
        <p className="muted">
          Partner organisations and the communities a marking may be released to: releasing to a community reaches every
          organisation in it. {feedsShown ? 'Partner feeds pulled in, ' : ''}what partners can pull from this floor
          {importing ? ', and imports of STIX and MISP files' : ''}.
        </p>
        {!editable &&
          (viewingAs ? (
            <p className="notice" data-testid="sharing-readonly">
              Read-only while viewing as{' '}
              <span className="mono">
                {viewingAs.kind} {viewingAs.id}
              </span>
              : stop viewing as to change the directory or import.
            </p>
          ) : (
            <p className="notice" data-testid="sharing-readonly">
              Read-only: admins change the directory. You see every organisation and the communities{' '}
              <span className="mono">{session?.organisation}</span> belongs to.
            </p>
          ))}
        {viewable && (
          <p className="muted" data-testid="sharing-view-as-hint">
            “View as” shows the whole console as that organisation or community receives it from what you may see
            (read-only).
          </p>
        )}
        {loaded.error && (
          <div className="command-error" role="alert" data-testid="sharing-load-error">
            <strong>{headlineOf(loaded.error.code)}:</strong> {describeFormError(loaded.error)}
          </div>
        )}
        {!directory && loaded.loading && <p className="muted">Loading the directory…</p>}
        {directory && (
          <div className="sharing-sections">
            <section className="sharing-section" aria-labelledby="sharing-organisations">
              <h2 id="sharing-organisations">
                Organisations <span className="muted">({directory.organisations.length})</span>
              </h2>
              <OrganisationsTable directory={directory} editable={editable} viewable={viewable} onChanged={reload} />
              {editable && <AddOrganisationForm onChanged={reload} />}
            </section>
            <section className="sharing-section" aria-labelledby="sharing-communities">
              <h2 id="sharing-communities">
                Communities <span className="muted">({directory.communities.length})</span>
              </h2>
              {communities}
              {editable && <AddCommunityForm organisations={directory.organisations} onChanged={reload} />}
            </section>
            {feedsShown && (
              <FeedsIn organisations={directory.organisations} editable={editable} reloadKey={reloadKey} />
            )}
            <FeedsOut
              communities={directory.communities}
              organisation={session?.organisation ?? ''}
              organisations={directory.organisations}
              activityShown={feedsOutShown}
              everyOrganisation={editable}
              reloadKey={reloadKey}
            />
            {importing && session && <ImportZone user={session.user} organisation={session.organisation} />}
          </div>
        )}
      </div>
    </main>
  )
}
