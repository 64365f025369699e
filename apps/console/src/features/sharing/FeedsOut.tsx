/**
 * Feeds out: what partners can pull from this floor, each with a copy button and how to use it: the
 * TAXII 2.1 discovery URL and API root, the collections (named as the server names them, see
 * outbound.ts: the console does not call `/taxii2/`, which takes no session cookie), and the MISP
 * feed. A partner reads them with an API token of its own, and gets what that token may see.
 */
import { useEffect, useRef, useState } from 'react'
import type { Community } from './directory.ts'
import { curlOf, mispFeedUrl, outboundCollections, taxiiApiRootUrl, taxiiDiscoveryUrl } from './outbound.ts'

/** Put `text` on the clipboard; where the browser does not allow it, select `fallback`'s text for Ctrl+C. */
async function copyText(text: string, fallback: HTMLElement | null): Promise<'copied' | 'selected'> {
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
function Copyable({ value, what, testId }: { value: string; what: string; testId: string }) {
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

export function FeedsOut({
  communities,
  organisation,
  origin = window.location.origin,
}: {
  /** The communities the directory lists for the caller: the server's collections for the same caller. */
  communities: readonly Community[]
  /** The caller's organisation, to say whose view a token of it gets. */
  organisation: string
  origin?: string
}) {
  const collections = outboundCollections(origin, communities)
  const discovery = taxiiDiscoveryUrl(origin)
  const apiRoot = taxiiApiRootUrl(origin)
  const misp = mispFeedUrl(origin)
  return (
    <section className="sharing-section" aria-labelledby="sharing-feeds-out" data-testid="feeds-out">
      <h2 id="sharing-feeds-out">Feeds out</h2>
      <p className="muted sharing-intro">
        What partners can pull from this floor. A partner uses an API token of its own (an account of its organisation
        here): it gets exactly what that token may see, never RED it is not named for. Session cookies are not accepted.
      </p>
      <dl className="feeds-out">
        <dt>TAXII 2.1 discovery</dt>
        <dd>
          <Copyable value={discovery} what="the TAXII discovery URL" testId="feeds-out-discovery" />
          <p className="hint">
            Any TAXII 2.1 client starts here, with the partner’s token as <span className="mono">Bearer</span> or as the
            Basic password (any username).
          </p>
        </dd>
        <dt>TAXII API root</dt>
        <dd>
          <Copyable value={apiRoot} what="the TAXII API root" testId="feeds-out-api-root" />
          <p className="hint">
            What OpenCTI asks for (TAXII server URL), with a collection below; try it with{' '}
            <span className="mono">{curlOf(`${apiRoot}collections/`)}</span>
          </p>
        </dd>
        <dt>
          Collections <span className="muted">({collections.length})</span>
        </dt>
        <dd>
          <ul className="feeds-out-collections" data-testid="feeds-out-collections">
            {collections.map((c) => (
              <li key={c.alias} data-testid="feeds-out-collection" data-alias={c.alias}>
                <Copyable value={c.alias} what={`the collection ${c.alias}`} testId="feeds-out-collection-alias" />{' '}
                <span>{c.title}</span>
                {c.id && (
                  <span className="muted">
                    {' '}
                    · id <span className="mono">{c.id}</span>
                  </span>
                )}
              </li>
            ))}
          </ul>
          <p className="hint">
            Use the alias (or the collection’s id) in the path. A partner has “all”, and one collection per community of
            its own organisation; these are yours ({organisation}
            {communities.length === 0 ? ', in no community' : ''}).
          </p>
        </dd>
        <dt>MISP feed</dt>
        <dd>
          <Copyable value={misp} what="the MISP feed URL" testId="feeds-out-misp" />
          <p className="hint">
            In MISP: Sync Actions › Feeds › Add Feed, this URL without the trailing slash, Source Format “MISP Feed”,
            header <span className="mono">Authorization: Bearer &lt;the partner’s token&gt;</span>, Distribution
            “Inherit from feed”. RED is never in it.
          </p>
        </dd>
      </dl>
    </section>
  )
}
