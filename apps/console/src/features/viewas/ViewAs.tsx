/**
 * The screens of "view as" (viewAs.ts): the banner across the top of every screen while viewing
 * as, the header's control (coordinators and admins only), the Sharing page's "View as" buttons
 * and the note saying why a view was refused.
 */
import { useEffect } from 'react'
import { useWatchfloor, watchfloor } from '../../data/store.ts'
import { parseViewAs, sameViewAs, type ViewAs, viewAsValue } from '../../data/viewAs.ts'
import { ui } from '../coordination/coordination.ts'
import { mayViewAs } from '../coordination/permissions.ts'
import { audienceName, bannerText, loadAudiences, stopViewingAs, useViewAsUi, viewAs, viewingAsOf } from './viewAs.ts'

/** Across the top of every screen while viewing as: whose picture this is, and Stop. */
export function ViewAsBanner() {
  const viewingAs = useWatchfloor((s) => s.session?.viewingAs)
  const directory = useViewAsUi((u) => u.directory)
  const pending = useViewAsUi((u) => u.pending)
  if (!viewingAs) return null
  const name = audienceName(directory, viewingAs)
  return (
    <section
      className="viewas-banner"
      aria-label="Viewing as another audience"
      data-testid="view-as-banner"
      data-view-as={viewAsValue(viewingAs)}
    >
      <strong className="viewas-banner-text" data-testid="view-as-banner-text">
        {bannerText(name, viewingAs.kind)}
      </strong>
      <button
        type="button"
        className="button viewas-stop"
        data-testid="view-as-stop"
        disabled={pending !== undefined}
        onClick={() => void stopViewingAs()}
      >
        {pending === null ? 'Stopping…' : 'Stop'}
      </button>
    </section>
  )
}

/** Why the last "view as" was refused (the server's words), until dismissed or the next switch. */
export function ViewAsRefusal() {
  const error = useWatchfloor((s) => s.viewAsError)
  if (!error) return null
  return (
    <div className="command-error viewas-error" role="alert" data-testid="view-as-error">
      <strong>Not viewing as:</strong> {error}{' '}
      <button
        type="button"
        className="link"
        aria-label="Dismiss"
        onClick={() => watchfloor.getState().setViewAsError(null)}
      >
        ✕
      </button>
    </div>
  )
}

/** "CERT Latvia (cert-lv)"; just the id when the directory names it by its id. */
const labelOf = (entry: { id: string; name: string }): string =>
  entry.name === entry.id ? entry.id : `${entry.name} (${entry.id})`

/** The header's "View as" control: myself, an organisation or a community of the directory. */
export function ViewAsControl() {
  const session = useWatchfloor((s) => s.session)
  const directory = useViewAsUi((u) => u.directory)
  const directoryError = useViewAsUi((u) => u.directoryError)
  const pending = useViewAsUi((u) => u.pending)
  const allowed = mayViewAs(session)
  useEffect(() => {
    if (allowed) void loadAudiences()
  }, [allowed])
  if (!session || !allowed) return null
  const current = viewingAsOf(session)
  const shown = pending !== undefined ? pending : current
  const value = shown ? viewAsValue(shown) : ''
  const listed =
    shown === null ||
    (shown.kind === 'organisation' ? directory?.organisations : directory?.communities)?.some((e) => e.id === shown.id)
  return (
    <label className="viewas-control" title="See the picture as an organisation or a community receives it from you">
      <span>View as</span>
      <select
        className="input"
        data-testid="view-as-select"
        value={value}
        disabled={pending !== undefined}
        aria-busy={pending !== undefined}
        onFocus={() => void loadAudiences()}
        onChange={(e) => void viewAs(parseViewAs(e.target.value))}
      >
        <option value="">myself ({session.organisation})</option>
        {!listed && shown && <option value={value}>{value}</option>}
        {directory && directory.organisations.length > 0 && (
          <optgroup label="Organisations">
            {directory.organisations.map((o) => (
              <option key={o.id} value={viewAsValue({ kind: 'organisation', id: o.id })}>
                {labelOf(o)}
              </option>
            ))}
          </optgroup>
        )}
        {directory && directory.communities.length > 0 && (
          <optgroup label="Communities">
            {directory.communities.map((c) => (
              <option key={c.id} value={viewAsValue({ kind: 'community', id: c.id })}>
                {labelOf(c)}
              </option>
            ))}
          </optgroup>
        )}
      </select>
      {directoryError && (
        <span className="error" title={directoryError}>
          directory unavailable
        </span>
      )}
    </label>
  )
}

/**
 * "View as" next to an organisation or a community on the Sharing page (coordinators and admins):
 * switches, then shows the picture.
 */
export function ViewAsButton({ audience, name }: { audience: ViewAs; name: string }) {
  const session = useWatchfloor((s) => s.session)
  const pending = useViewAsUi((u) => u.pending)
  if (!mayViewAs(session)) return null
  const current = sameViewAs(viewingAsOf(session), audience)
  return (
    <button
      type="button"
      className="button small"
      data-testid="view-as-open"
      aria-label={`View as ${name} (${audience.kind})`}
      aria-pressed={current}
      disabled={pending !== undefined}
      onClick={() =>
        void viewAs(audience).then((shown) => {
          if (shown) ui.getState().setPage('picture')
        })
      }
    >
      {current ? 'Viewing' : 'View as'}
    </button>
  )
}
