import { rmSync } from 'node:fs'

/** After the run (the server stopped): its data folder goes, log and tokens (playwright.config.ts). */
export default function teardown(): void {
  const dataDir = process.env.WATCHFLOOR_E2E_DATA_DIR
  if (dataDir?.includes('watchfloor-e2e-')) rmSync(dataDir, { recursive: true, force: true })
}
