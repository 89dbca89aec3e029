// The pages a person sees, in headless Chromium: a listing (into a folder and back through
// the breadcrumbs, sorting, a file with a hostile name) and a 404 page with its way back.
// Every page is watched for console errors, Content-Security-Policy violations, dialogs
// (a name that ran as script) and a request for /favicon.ico. Screenshots in light and dark,
// desktop and phone: to a temporary folder, or with UPDATE_SCREENSHOTS=1 to
// test/browser/screenshots/, where the README shows them.

import { mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, onCleanup, REPO_ROOT, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import { hasChromium, launchBrowser, requireChromium } from './browser.js';

/** Bound on every wait for the page (each happens within milliseconds when all is well). */
const WAIT_TIMEOUT_MS = 8000;

const HOSTILE = '<img src=x onerror=alert(1)>.txt';
const SPACED = 'notes   with   spaces.txt';
const RTL = '\u202Egnp.exe';

/** A folder such as people serve: code, docs, pictures, a release; and names that try to break the page. */
const TREE: Record<string, string | Buffer> = {
  'README.md': '# Demo\n',
  'package.json': '{ "name": "demo" }\n',
  'release-1.2.0.tar.gz': Buffer.alloc(2_400_000, 1),
  'podcast-episode-12.mp3': Buffer.alloc(480_000, 2),
  'data.csv': 'a,b\n1,2\n',
  [SPACED]: 'spaces kept\n',
  [HOSTILE]: 'just text\n',
  [`tricky/${RTL}`]: 'not an exe\n',
  'tricky/new\nline.txt': 'newline\n',
  'tricky/<script>alert(2)': 'script\n',
  'tricky/" onmouseover="alert(3)': 'quote\n',
  'docs/getting-started.md': '# Start\n',
  'docs/api.md': '# API\n',
  'docs/guide/chapter-1.md': '# One\n',
  'docs/guide/chapter-2.md': '# Two\n',
  'photos/harbour.jpg': Buffer.alloc(182_000, 3),
  'photos/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'src/main.ts': 'export {};\n',
  'src/style.css': 'body{}\n',
};

/** Fixed dates, so the screenshots are the same on every run. */
const BASE_TIME = Date.UTC(2026, 4, 1, 9, 30) / 1000;

const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'test', 'browser', 'screenshots') : undefined;

/** What went wrong on a page while a test used it. */
interface PageWatch {
  consoleErrors: string[];
  violations: string[];
  dialogs: string[];
}

requireChromium();

describe.skipIf(!hasChromium)('the pages in Chromium', () => {
  let browser: Browser;
  let base: string;
  let shotDir: string;
  /** Paths the server was asked for, in order. */
  const served: string[] = [];

  beforeAll(async () => {
    const root = await tempDir('serve-dir-pages-');
    await writeTree(root, TREE);
    let minute = 0;
    for (const name of Object.keys(TREE).sort()) {
      const time = BASE_TIME + 3600 * 24 * (minute++ % 9) + 60 * minute;
      await utimes(join(root, name), time, time);
    }
    for (const folder of ['docs/guide', 'docs', 'photos', 'src', 'tricky']) await utimes(join(root, folder), BASE_TIME, BASE_TIME);
    const [launched, server] = await Promise.all([launchBrowser(), serveDirectory(root)]);
    browser = launched;
    server.server.on('request', (req: { url?: string }) => served.push(req.url ?? ''));
    base = `http://localhost:${server.port}`;
    shotDir = SCREENSHOT_DIR ?? (await tempDir('serve-dir-screenshots-'));
    await mkdir(shotDir, { recursive: true });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await cleanup();
  });

  async function open(options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<{ page: Page; watch: PageWatch }> {
    const context: BrowserContext = await browser.newContext({
      colorScheme: options.colorScheme ?? 'light',
      viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
      deviceScaleFactor: 1,
    });
    onCleanup(() => context.close());
    context.setDefaultTimeout(WAIT_TIMEOUT_MS);
    // Injected by the browser's debugging protocol, so the pages' CSP (no script) does not stop it.
    // (Strings, as the tests have no DOM types.)
    await context.addInitScript(
      "window.__violations = []; document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(event.violatedDirective + ' ' + event.blockedURI));",
    );
    const page = await context.newPage();
    const watch: PageWatch = { consoleErrors: [], violations: [], dialogs: [] };
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // A 404 page is the document of a 404 response, which Chromium reports as a failed load.
      if (/status of 404/.test(message.text()) && /\/missing\//.test(page.url())) return;
      watch.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => watch.consoleErrors.push(error.message));
    page.on('dialog', async (dialog) => {
      watch.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    return { page, watch };
  }

  async function violationsOn(page: Page): Promise<string[]> {
    return page.evaluate('window.__violations') as Promise<string[]>;
  }

  /** The names in the listing, in order, without the parent row. */
  async function listedNames(page: Page): Promise<string[]> {
    return page.evaluate("[...document.querySelectorAll('tbody td.name a:not(.up)')].map((link) => link.innerText)") as Promise<string[]>;
  }

  it('a listing: into a folder, back through the breadcrumbs, sorted by size, a hostile name opened', async () => {
    const { page, watch } = await open();
    const start = served.length;
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Index of /');
    const names = await listedNames(page);
    expect(names.slice(0, 4)).toEqual(['docs/', 'photos/', 'src/', 'tricky/']);
    // Runs of spaces shown as they are (innerText follows the CSS), the override made visible.
    expect(names).toContain(SPACED);
    expect(names).toContain(HOSTILE);

    // Into docs/, then guide/, then back by the breadcrumbs.
    await page.getByRole('link', { name: 'docs/', exact: true }).click();
    await page.waitForURL(`${base}/docs/`);
    await page.getByRole('link', { name: 'guide/', exact: true }).click();
    await page.waitForURL(`${base}/docs/guide/`);
    expect(await listedNames(page)).toEqual(['chapter-1.md', 'chapter-2.md']);
    await page.locator('h1 a', { hasText: 'docs' }).click();
    await page.waitForURL(`${base}/docs/`);
    await page.getByRole('link', { name: 'Parent folder' }).click();
    await page.waitForURL(`${base}/`);

    // Sorting by size: folders first, then the smallest file; again, the largest first.
    await page.getByRole('button', { name: 'Size' }).click();
    await page.waitForURL(`${base}/?sort=size&order=asc`);
    const ascending = await listedNames(page);
    expect(ascending.slice(0, 4)).toEqual(['docs/', 'photos/', 'src/', 'tricky/']);
    expect(ascending.at(-1)).toBe('release-1.2.0.tar.gz');
    expect(await page.locator('th.size').getAttribute('aria-sort')).toBe('ascending');
    await page.getByRole('button', { name: 'Size' }).click();
    await page.waitForURL(`${base}/?sort=size&order=desc`);
    expect((await listedNames(page))[4]).toBe('release-1.2.0.tar.gz');

    expect(watch.consoleErrors).toEqual([]);
    expect(await violationsOn(page)).toEqual([]);
    expect(served.slice(start).filter((url) => url.includes('favicon'))).toEqual([]);

    // The hostile name is text: clicking it opens that exact file, and nothing ran. (The
    // file is plain text, with no icon of its own: Chromium asks for /favicon.ico there.)
    const beforeFile = served.length;
    await page.getByRole('link', { name: HOSTILE, exact: true }).click();
    await page.waitForURL(`${base}/${encodeURIComponent(HOSTILE)}`);
    expect(await page.locator('body').innerText()).toBe('just text\n');
    expect(watch.dialogs).toEqual([]);
    // Which shows that the pages above would have been asked for one, had they no icon.
    await expect.poll(() => served.slice(beforeFile).includes('/favicon.ico'), { timeout: WAIT_TIMEOUT_MS }).toBe(true);
  });

  it('names that try to be markup, to reorder text or to break lines are shown as inert text', async () => {
    const { page, watch } = await open();
    await page.goto(`${base}/tricky/`);
    expect((await listedNames(page)).sort()).toEqual(['" onmouseover="alert(3)', '<script>alert(2)', 'new\u240aline.txt', '\ufffdgnp.exe'].sort());
    await page.locator('td.name a', { hasText: 'onmouseover' }).hover();
    await page.getByRole('link', { name: 'new\u240aline.txt' }).click();
    await page.waitForURL(`${base}/tricky/new%0Aline.txt`);
    expect(await page.locator('body').innerText()).toBe('newline\n');
    expect(watch.dialogs).toEqual([]);
    expect(watch.consoleErrors).toEqual([]);
  });

  it('a 404 page: styled, and its links lead to the nearest folder and the root', async () => {
    const { page, watch } = await open({ colorScheme: 'dark' });
    const start = served.length;
    const response = await page.goto(`${base}/docs/guide/missing/page.html`);
    expect(response?.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('404 Not Found');
    // Dark mode reached the page: its stylesheet was allowed.
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    expect(await page.locator('main li .path').allInnerTexts()).toEqual(['/docs/guide/', '/']);
    await page.locator('main li a', { hasText: '/docs/guide/' }).click();
    await page.waitForURL(`${base}/docs/guide/`);
    expect(await page.title()).toBe('Index of /docs/guide/');
    await page.goBack();
    await page.locator('main li a', { hasText: 'The top folder' }).click();
    await page.waitForURL(`${base}/`);
    expect(watch.consoleErrors).toEqual([]);
    expect(await violationsOn(page)).toEqual([]);
    expect(served.slice(start).filter((url) => url.includes('favicon'))).toEqual([]);
  });

  it('fits a phone: no sideways scrolling, a date never wraps', async () => {
    const { page } = await open({ width: 390, height: 844 });
    await page.goto(`${base}/`);
    const layout = (await page.evaluate(`({
      scrollWidth: document.documentElement.scrollWidth,
      dateHeights: [...document.querySelectorAll('td.mtime time')].map((time) => time.getBoundingClientRect().height),
      lineHeight: parseFloat(getComputedStyle(document.querySelector('td.mtime')).lineHeight),
    })`)) as { scrollWidth: number; dateHeights: number[]; lineHeight: number };
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(layout.dateHeights.length).toBeGreaterThan(5);
    for (const height of layout.dateHeights) expect(height).toBeLessThan(layout.lineHeight * 1.5);
  });

  it('screenshots: listing and 404, light and dark, desktop and phone', async () => {
    const sizes = [
      ['desktop', 1280, 800],
      ['phone', 390, 844],
    ] as const;
    const saved: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const [device, width, height] of sizes) {
        const { page, watch } = await open({ colorScheme, width, height });
        for (const [name, path] of [
          ['listing', '/'],
          ['404', '/docs/guide/missing/page.html'],
        ] as const) {
          await page.goto(`${base}${path}`);
          const file = join(shotDir, `${name}-${colorScheme}-${device}.png`);
          await page.screenshot({ path: file });
          saved.push(file);
        }
        expect(watch.consoleErrors).toEqual([]);
      }
    }
    expect(saved).toHaveLength(8);
  }, 30_000);
});
