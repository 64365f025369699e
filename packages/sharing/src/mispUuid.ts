/**
 * The namespace of every id the MISP mapping makes (UUIDv5, uuid.ts), so importing or exporting
 * the same thing twice gives the same ids: a re-import is idempotent (the log answers the same
 * seq) and MISP recognises an event it already pulled.
 */
import { UUID_NAMESPACE_URL, uuidv5 } from './uuid.ts'

/** UUIDv5 of `urn:watchfloor:misp` in the URL namespace. Fixed forever: changing it would change every id. */
export const MISP_NAMESPACE = uuidv5(UUID_NAMESPACE_URL, 'urn:watchfloor:misp')
