/** JSON with object keys sorted at every depth: equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null'
}

/** Like JSON.stringify, with sorted keys; undefined for what JSON leaves out (undefined, functions). */
function write(value: unknown): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      break
    default:
      return undefined
  }
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += `${i > 0 ? ',' : ''}${write(value[i]) ?? 'null'}`
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  if (typeof (record as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(record)
  const keys = Object.keys(record)
  if (keys.length > 1) keys.sort()
  let out = '{'
  let first = true
  for (const key of keys) {
    const text = write(record[key])
    if (text === undefined) continue
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`
    first = false
  }
  return `${out}}`
}
