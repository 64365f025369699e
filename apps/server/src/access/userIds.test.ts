import type { Logger } from 'pino'
import { describe, expect, it } from 'vitest'
import { checkUserIdsAtStart } from './userIds.ts'

/** A logger that keeps its warnings. */
function warnings(): { logger: Logger; lines: { fields: unknown; message: string }[] } {
  const lines: { fields: unknown; message: string }[] = []
  const logger = { warn: (fields: unknown, message: string) => lines.push({ fields, message }) } as unknown as Logger
  return { logger, lines }
}

describe('checkUserIdsAtStart', () => {
  it("[A9] warns of a service token given a partner feed's user id (feed:<id>) before the prefix was reserved, naming it", () => {
    const { logger, lines } = warnings()
    checkUserIdsAtStart(
      [
        { user: 'feed:partner-x', organisation: 'cert-lv', nation: 'LV', roles: ['sensor'], sources: [] },
        { user: 'ids-7', organisation: 'cert-lv', nation: 'LV', roles: ['sensor'], sources: [] },
      ],
      logger,
    )
    expect(lines).toEqual([
      {
        fields: { userId: 'feed:partner-x', holders: ['a service token of cert-lv'] },
        message: expect.stringContaining("a token's user id starts feed:"),
      },
    ])
  })
})
