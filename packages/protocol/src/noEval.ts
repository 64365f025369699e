/**
 * Import first, before any schema is built, to validate without compiling validators at run time
 * (zod's `jitless`): for pages under a Content-Security-Policy without `'unsafe-eval'` (the
 * console), where zod's probe for `eval`, made when the first object schema is built, would be
 * reported as a violation. The server does not import it: it keeps zod's compiled validators.
 */
import { config } from 'zod'

config({ jitless: true })
