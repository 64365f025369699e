import type { Pap, Severity, Tlp } from '@watchfloor/protocol'
import type { ReactNode } from 'react'
import { SEVERITY_COLOURS, TLP_COLOURS } from './theme.ts'

/** The TLP, and beside it the PAP when the marking has one (what a recipient may do with it). */
export function TlpBadge({ tlp, pap }: { tlp: Tlp; pap?: Pap | undefined }) {
  return (
    <>
      <span
        className="tlp"
        data-testid="tlp-badge"
        data-tlp={tlp}
        style={{ color: TLP_COLOURS[tlp], background: '#000000' }}
      >
        TLP:{tlp}
      </span>
      {pap !== undefined && (
        <>
          {' '}
          <span
            className="tlp"
            data-testid="pap-badge"
            data-pap={pap}
            title="Permissible Actions Protocol: what you may do with it"
            style={{ color: TLP_COLOURS[pap], background: '#000000' }}
          >
            PAP:{pap}
          </span>
        </>
      )}
    </>
  )
}

/** Colour and shape, so severity never rests on colour alone: ◆ critical, ▲ high, ■ medium, ● low. */
export function SeverityShape({ severity, size = 14 }: { severity: Severity; size?: number }) {
  const fill = SEVERITY_COLOURS[severity]
  let shape: ReactNode
  switch (severity) {
    case 'critical':
      shape = <polygon points="7,0.5 13.5,7 7,13.5 0.5,7" fill={fill} />
      break
    case 'high':
      shape = <polygon points="7,1 13.5,13 0.5,13" fill={fill} />
      break
    case 'medium':
      shape = <rect x="2" y="2" width="10" height="10" fill={fill} />
      break
    case 'low':
      shape = <circle cx="7" cy="7" r="5" fill={fill} />
      break
  }
  return (
    <svg className="severity-shape" width={size} height={size} viewBox="0 0 14 14" aria-hidden="true">
      {shape}
    </svg>
  )
}

export function SeverityLabel({ severity }: { severity: Severity }) {
  return (
    <span
      className={`severity severity-${severity}`}
      data-severity={severity}
      style={{ color: SEVERITY_COLOURS[severity] }}
    >
      <SeverityShape severity={severity} />
      <span className="severity-word">{severity}</span>
    </span>
  )
}
