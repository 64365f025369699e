import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // integration tests start real servers and databases; keep the 2-core machine calm
    fileParallelism: true,
    maxWorkers: 2,
  },
})
