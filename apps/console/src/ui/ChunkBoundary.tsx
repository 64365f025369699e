/**
 * A part of the console loaded on demand (the map, a page, the replay bar) that cannot be loaded
 * must not blank the whole console: a console left open for a shift meets a server upgraded under
 * it, whose new build no longer has the old page's files (404). The part says so in its place and
 * offers a reload; the rest of the console stays. A wall, unattended, reloads by itself.
 */
import { Component, type ReactNode } from 'react'

interface Props {
  /** What it is, in words: "the handover". */
  what: string
  /** Reload the page by itself after this long (a wall: nobody is there to press the button). */
  reloadAfterMs?: number
  children: ReactNode
}

export class ChunkBoundary extends Component<Props, { failed: boolean }> {
  override state = { failed: false }
  private timer: ReturnType<typeof setTimeout> | undefined

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true }
  }

  override componentDidCatch(error: unknown): void {
    console.error(`Watchfloor: ${this.props.what} could not be loaded`, error)
    if (this.props.reloadAfterMs !== undefined)
      this.timer = setTimeout(() => window.location.reload(), this.props.reloadAfterMs)
  }

  override componentWillUnmount(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children
    return <ChunkNotice what={this.props.what} reloadAfterMs={this.props.reloadAfterMs} />
  }
}

/**
 * What a part that could not be loaded says in its place (and a wall, unattended, does: it reloads
 * itself after `reloadAfterMs`, whose timer the caller keeps).
 */
export function ChunkNotice({ what, reloadAfterMs }: { what: string; reloadAfterMs?: number | undefined }) {
  return (
    <div className="chunk-error" role="alert" data-testid="chunk-error">
      <p>
        {what[0]!.toUpperCase() + what.slice(1)} could not be loaded: the server may have been updated since this page
        was opened.
        {reloadAfterMs === undefined
          ? ' Reload the page to continue (copy anything you typed first: a reload forgets it). The rest of the console works meanwhile.'
          : ` The page reloads itself in ${Math.round(reloadAfterMs / 1000)} s.`}
      </p>
      <button type="button" className="button" data-testid="chunk-reload" onClick={() => window.location.reload()}>
        Reload
      </button>
    </div>
  )
}
