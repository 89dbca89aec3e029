/**
 * The real browser for end-to-end tests: Debian's Chromium, driven by playwright-core.
 * Never a downloaded browser. Where Chromium is missing, the browser tests are skipped
 * with a visible message, except on CI (CI=true), where a missing browser fails the run:
 * a CI that silently skipped them would report green without having tested what a
 * person sees.
 */
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM_PATH = '/usr/bin/chromium';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const hasChromium = isExecutable(CHROMIUM_PATH);

const runningOnCI = /^(true|1)$/i.test(process.env.CI ?? '');

const missingChromiumMessage = `Chromium is not installed at ${CHROMIUM_PATH}: the browser tests need it (install it with \`apt-get install -y chromium\`).`;

/**
 * Call at the top of a browser test file, next to `describe.skipIf(!hasChromium)`: on CI
 * it adds a test that fails when Chromium is missing; elsewhere it prints why the browser
 * tests are skipped.
 */
export function requireChromium(): void {
  if (hasChromium) return;
  if (runningOnCI) {
    describe('browser', () => {
      it(`finds Chromium at ${CHROMIUM_PATH}`, () => {
        throw new Error(`${missingChromiumMessage} CI=${process.env.CI}, so a missing browser fails the run.`);
      });
    });
  } else {
    console.warn(`Skipping the browser tests. ${missingChromiumMessage}`);
  }
}

/** Headless Chromium, with everything that would reach out to the network or the GPU turned off. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      // Chromium's sandbox refuses to start as root, which is how containers and CI run.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
