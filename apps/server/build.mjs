#!/usr/bin/env node
// `pnpm --filter @watchfloor/server build` (and the root `pnpm build`): the server as plain
// JavaScript for `node`, no TypeScript loader. esbuild bundles src/main.ts with the workspace
// packages it imports (@watchfloor/*, which export TypeScript source) into dist/main.js; every
// other package (express, socket.io, pino, better-sqlite3, pg, ...) stays an import resolved from
// node_modules at run time, so native modules are never bundled. Types are checked by `tsc`, not here.
// The product's version and commit are looked up once here (scripts/release.mjs: a checkout without
// .git takes WATCHFLOOR_COMMIT) and written into the bundle (`__WATCHFLOOR_RELEASE__`, src/ops/release.ts).
//
//   node apps/server/build.mjs [--outdir <dir>]   (default apps/server/dist)
import { rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { readRelease } from '../../scripts/release.mjs'

const here = dirname(new URL(import.meta.url).pathname)
const { values } = parseArgs({ options: { outdir: { type: 'string' } } })
const outdir = resolve(values.outdir ?? join(here, 'dist'))

/** @type {import('esbuild').Plugin} */
const externalPackages = {
  name: 'external-packages',
  setup(plugin) {
    // a bare specifier that is not ours (node:*, express, better-sqlite3, ...) is left to Node
    plugin.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@watchfloor/') ? undefined : { path: args.path, external: true },
    )
  },
}

rmSync(outdir, { recursive: true, force: true })
const release = readRelease()
const result = await build({
  // the server, and the operator's command line (src/cli/main.ts -> cli.js, docs/operate.md)
  entryPoints: { main: join(here, 'src/main.ts'), cli: join(here, 'src/cli/main.ts') },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // keep class and function names: they appear in logs and error names
  keepNames: true,
  plugins: [externalPackages],
  define: { __WATCHFLOOR_RELEASE__: JSON.stringify(release) },
  logLevel: 'warning',
  metafile: true,
})
const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .reduce((sum, [, output]) => sum + output.bytes, 0)
console.log(
  `server built: ${join(outdir, 'main.js')} (${(bytes / 1024).toFixed(0)} KiB), Watchfloor ${release.version} (commit ${release.commit})`,
)
