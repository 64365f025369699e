/**
 * Release 0.1: the console says which release it is and which the server is. The console's
 * version and commit were written into it when it was built, the server's come from its
 * `/healthz`; both are this checkout's, and both speak the same protocol (the console got
 * live, so the server accepted the protocol version its handshake sent).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect } from '@playwright/test'
import { PROTOCOL_VERSION } from '../packages/protocol/src/events.ts'
import { E2E_TOKENS, expectHeaderOnOneLine, signIn, test } from './fixtures.ts'

const root = new URL('..', import.meta.url).pathname
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()

test('About shows the console and the server release and their protocol versions', async ({ page }, testInfo) => {
  await signIn(page, E2E_TOKENS.officer)
  const about = page.getByTestId('about')
  await expect(about).toBeHidden()
  await page.getByTestId('open-about').click()
  await expect(about).toBeVisible()
  await expect(about.getByTestId('about-console-version')).toHaveText(`${version} (${commit})`)
  await expect(about.getByTestId('about-server-version')).toHaveText(`${version} (${commit})`)
  await expect(about.getByTestId('about-console-protocol')).toHaveText(String(PROTOCOL_VERSION))
  await expect(about.getByTestId('about-server-protocol')).toHaveText(String(PROTOCOL_VERSION))
  await expect(about.getByTestId('about-mismatch')).toHaveCount(0)
  await page.screenshot({ path: testInfo.outputPath('about-open.png') })
  // Escape closes it; the picture stays live
  await page.keyboard.press('Escape')
  await expect(about).toBeHidden()
  await expect(page.getByTestId('connection-status')).toHaveText('live')
})

test('the header holds on one line at 1280 px, for the role with the most controls', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 })
  for (const token of [E2E_TOKENS.admin, E2E_TOKENS.coordinator]) {
    await signIn(page, token)
    await expectHeaderOnOneLine(page)
    // and the identity, when cut, is whole in its title
    await expect(page.getByTestId('whoami')).toHaveAttribute('title', /signed in with/)
    await page.screenshot({ path: testInfo.outputPath(`header-1280-${token.slice(4, 12)}.png`) })
    await page.getByTestId('sign-out').click()
  }
})
