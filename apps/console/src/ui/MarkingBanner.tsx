import { type DocumentMarking, markingBanner } from '@watchfloor/core'
import { useEffect } from 'react'
import { TLP_COLOURS } from './theme.ts'

/**
 * [M2] A document's marking as a banner across it, top and bottom (printed too): the
 * strictest TLP and PAP of what the document shows (core's `documentMarking`).
 */
export function MarkingBanner({ marking, position }: { marking: DocumentMarking; position: 'top' | 'bottom' }) {
  const text = markingBanner(marking)
  const colour = TLP_COLOURS[marking.tlp]
  // printed, the marking heads and foots every page, not only the first and the last (styles.css,
  // `@page`): the top banner hands it to the page's margins while it is shown
  useEffect(() => {
    if (position !== 'top') return
    const root = document.documentElement.style
    root.setProperty('--print-marking', JSON.stringify(text))
    root.setProperty('--print-marking-colour', colour)
    return () => {
      root.removeProperty('--print-marking')
      root.removeProperty('--print-marking-colour')
    }
  }, [position, text, colour])
  return (
    <div
      className="marking-banner"
      data-testid="marking-banner"
      data-position={position}
      data-tlp={marking.tlp}
      data-pap={marking.pap}
      style={{ color: TLP_COLOURS[marking.tlp], background: '#000000' }}
    >
      {markingBanner(marking)}
    </div>
  )
}
