import { type DocumentMarking, markingBanner } from '@watchfloor/core'
import { TLP_COLOURS } from './theme.ts'

/**
 * [M2] A document's marking as a banner across it, top and bottom (printed too): the
 * strictest TLP and PAP of what the document shows (core's `documentMarking`).
 */
export function MarkingBanner({ marking, position }: { marking: DocumentMarking; position: 'top' | 'bottom' }) {
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
