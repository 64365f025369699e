import type { IncomingMessage } from 'node:http'
import { WatchfloorError } from '@watchfloor/protocol'
import { Access, type Caller } from '../access/access.ts'
import { type Metrics, SIGN_IN_REFUSALS, type SignInRefusal } from './metrics.ts'
import { notePrincipal } from './requestContext.ts'

const REFUSALS: ReadonlySet<string> = new Set(SIGN_IN_REFUSALS)

/**
 * Access as the operators see it: each caller found is noted as the principal of the request's log
 * lines (REST, TAXII, the MISP feed, signing in), and each refused token or session counted in
 * `watchfloor_signin_refusals_total` by reason (requests and socket handshakes alike, and a credential
 * checked again before a write: `Access.current`). Who may do what is Access's alone: this only
 * watches.
 */
export class ObservedAccess extends Access {
  /** Refusals already counted, so one refusal seen at two levels counts once. */
  private readonly counted = new WeakSet<object>()

  constructor(
    private readonly metrics: Metrics,
    ...access: ConstructorParameters<typeof Access>
  ) {
    super(...access)
  }

  override async fromToken(secret: string): Promise<Caller> {
    return this.noted(super.fromToken(secret), 'unknown_token')
  }

  override async fromSession(id: string): Promise<Caller> {
    return this.noted(super.fromSession(id), 'session_ended')
  }

  override async current(caller: Caller): Promise<Caller> {
    // a credential that no longer holds once the body was read (or the command lock taken)
    return this.noted(super.current(caller), 'unknown_token')
  }

  override async fromRequest(req: Pick<IncomingMessage, 'headers'>): Promise<Caller> {
    // what fromToken and fromSession did not count: a malformed Authorization header
    return this.noted(super.fromRequest(req), req.headers.authorization === undefined ? undefined : 'malformed')
  }

  private async noted(found: Promise<Caller>, fallback: SignInRefusal | undefined): Promise<Caller> {
    try {
      const caller = await found
      notePrincipal(caller)
      return caller
    } catch (error) {
      this.refused(error, fallback)
      throw error
    }
  }

  /** A credential refused (`unauthenticated`), by the reason Access gave, else `fallback`. */
  private refused(error: unknown, fallback: SignInRefusal | undefined): void {
    if (!(error instanceof WatchfloorError) || error.code !== 'unauthenticated' || this.counted.has(error)) return
    this.counted.add(error)
    const reason = (error as { reason?: unknown }).reason
    const known = typeof reason === 'string' && REFUSALS.has(reason) ? (reason as SignInRefusal) : fallback
    if (known !== undefined) this.metrics.signInRefused(known)
  }
}
