import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { readRelease } from '../../scripts/release.mjs'

const server = 'http://127.0.0.1:8080'

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // the product's version and commit, looked up once at build time (scripts/release.mjs: without a .git,
  // WATCHFLOOR_COMMIT), read by src/data/release.ts for the About panel
  define: { __WATCHFLOOR_RELEASE__: JSON.stringify(readRelease()) },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The first load is the entry chunk and its static imports, at most 800 KB (checked by
    // test/initialLoad.test.ts); the map (MapLibre and the world atlas, ~1.9 MB), the wall, the
    // report, the handover and the Sharing page are chunks of their own, loaded on demand.
    chunkSizeWarningLimit: 2_000,
    rolldownOptions: {
      output: {
        // Modules run in source order across chunks: '@watchfloor/protocol/no-eval' (main.tsx's first
        // import) sets zod's jitless before any schema is built, even when zod and the schemas land
        // in a chunk shared with the lazy pages; otherwise zod probes for eval, a CSP violation.
        strictExecutionOrder: true,
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/socket.io': { target: server, ws: true },
    },
  },
})
