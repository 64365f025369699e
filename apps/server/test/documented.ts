import { z } from 'zod'
import { openApiDocument } from '../src/http/openapi.ts'

/** The parts of the OpenAPI document the tests read. */
export type Document = {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown> }
}
export type Operation = {
  security?: unknown[]
  parameters?: { name: string; in: string; example?: string }[]
  requestBody?: { content: Record<string, unknown> }
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>
}

export const document = openApiDocument() as unknown as Document

/**
 * A schema of the document as a zod schema (`z.fromJSONSchema`), its references to the document's
 * components resolved, to check real answers against what the document says of them.
 */
export function documentedSchema(schema: unknown): z.ZodType {
  const local = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/'))
  return z.fromJSONSchema({ ...local(schema), $defs: local(document.components.schemas) })
}

/** What the document says an operation answers with this status as JSON (`post`, `/api/v1/import/stix`, `200`). */
export function documentedReply(method: string, template: string, status: number): z.ZodType {
  const content = document.paths[template]?.[method]?.responses[String(status)]?.content?.['application/json']
  if (content === undefined) throw new Error(`the document has no JSON answer ${status} of ${method} ${template}`)
  return documentedSchema(content.schema)
}
