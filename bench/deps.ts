import { createRequire } from 'node:module'
import type * as SocketIo from '../apps/server/node_modules/socket.io'
import type BetterSqlite3 from '../packages/store/node_modules/@types/better-sqlite3'
import type * as PgModule from '../packages/store/node_modules/@types/pg'

// better-sqlite3, pg and socket.io are dependencies of workspace packages, not of the root:
// load them from the package that has them, so the bench uses exactly the same copies.
const fromStore = createRequire(new URL('../packages/store/package.json', import.meta.url))
const fromServer = createRequire(new URL('../apps/server/package.json', import.meta.url))

export const Database = fromStore('better-sqlite3') as typeof BetterSqlite3
export type Database = BetterSqlite3.Database
export const { Server } = fromServer('socket.io') as typeof SocketIo
export const pg = fromStore('pg') as typeof PgModule
