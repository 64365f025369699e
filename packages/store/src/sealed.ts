import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * What the processes of one PostgreSQL log say to each other through the database (NOTIFY) or the
 * server's bus (Socket.IO's adapter: presence, credential changes), sealed:
 * any role that may connect may LISTEN on any channel, so nothing of the log or of its viewers goes
 * out readable. The key is the log's (`<table>_notify_key`, see `PostgresEventStore`): only a role
 * that may read it, as it may read the log, can open or make a sealed text.
 */
export interface Sealer {
  /** AES-256-GCM of `text`, bound to `context` (a channel): base64 of nonce (12 bytes), tag (16), sealed text. */
  seal(context: string, text: string): string
  /** What `seal` sealed with this key for this context, or null (another key or context, altered, or not sealed). */
  open(context: string, payload: string): string | null
}

export function sealerOf(key: Buffer): Sealer {
  return {
    seal: (context, text) => seal(key, context, text),
    open: (context, payload) => unseal(key, context, payload),
  }
}

/**
 * Bound to the context (a channel of one schema and table), so a payload heard on one log's channel
 * is refused on another's that shares the key (a dump restored beside its original).
 */
function seal(key: Buffer, context: string, text: string): string {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  cipher.setAAD(Buffer.from(context))
  const sealed = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
  return Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString('base64')
}

function unseal(key: Buffer, context: string, payload: string): string | null {
  try {
    const bytes = Buffer.from(payload, 'base64')
    if (bytes.length < 28) return null
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
    decipher.setAAD(Buffer.from(context))
    decipher.setAuthTag(bytes.subarray(12, 28))
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    return null
  }
}
