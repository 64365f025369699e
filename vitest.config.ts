import { configDefaults, defineConfig } from 'vitest/config'

/** Tests that need PostgreSQL, SQLite files or a running server: every `*.int.test.ts` and apps' test/ folders. */
const integration = ['packages/*/src/**/*.int.test.ts', 'apps/*/src/**/*.int.test.ts', 'apps/*/test/**/*.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // integration tests start real servers and databases; keep the 2-core machine calm
    fileParallelism: true,
    maxWorkers: 2,
    // `vitest run` runs both projects (pnpm test); `vitest run --project unit` needs no database or browser (pnpm unit)
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          exclude: [...configDefaults.exclude, '**/*.int.test.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: integration },
      },
    ],
  },
})
