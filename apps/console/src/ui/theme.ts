import type { Severity, Tlp } from '@watchfloor/protocol'

/** Severity colours, one set for list, map and timeline (always paired with a shape: ◆ ▲ ■ ●). */
export const SEVERITY_COLOURS: Record<Severity, string> = {
  critical: '#ff4d6a',
  high: '#ff9326',
  medium: '#f2d024',
  low: '#5aa9ff',
}

/** TLP 2.0 colours: the label text in its colour on black. */
export const TLP_COLOURS: Record<Tlp, string> = {
  RED: '#FF2B2B',
  'AMBER+STRICT': '#FFC000',
  AMBER: '#FFC000',
  GREEN: '#33FF00',
  CLEAR: '#FFFFFF',
}
