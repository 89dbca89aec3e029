/**
 * The proxy as a person meets it: headless Chromium over HTTPS and HTTP/2 loads an app's page
 * through serve-dir, the page's WebSocket reaches the app, and an edit to a static file reloads
 * the page (the live-reload script went into the app's HTML).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/index.js';
import { generateCertificate } from '../../src/tls/certificate.js';
import { hasChromium, launchBrowser, requireChromium } from '../browser/browser.js';
import { cleanup, onCleanup, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import { startBackend, type Backend } from './backend.js';

requireChromium();

const WAIT_TIMEOUT_MS = 5000;

describe.skipIf(!hasChromium)('proxy in a real browser (HTTPS, HTTP/2, --watch)', () => {
  let backend: Backend;
  let browser: Browser;
  let server: RunningServer;
  let root: string;
  const protocols: string[] = [];

  beforeAll(async () => {
    backend = await startBackend();
    root = await tempDir();
    await writeTree(root, { 'site.css': 'body { color: black; }' });
    const dir = await tempDir();
    const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
    await writeFile(join(dir, 'cert.pem'), cert);
    await writeFile(join(dir, 'key.pem'), key);
    server = await serveDirectory(root, {
      proxy: { '/api': backend.origin },
      watch: true,
      tlsCert: join(dir, 'cert.pem'),
      tlsKey: join(dir, 'key.pem'),
      onEvent: () => {},
    });
    await server.handler.ready;
    // Which way the browser asked for its WebSocket: extended CONNECT on the HTTP/2 session, or not.
    server.server.on('stream', (_stream: unknown, headers: Record<string, string>) => {
      if (headers[':method'] === 'CONNECT') protocols.push(headers[':protocol'] ?? '');
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await cleanup();
    await backend?.close();
  });

  it("loads the app's page over HTTP/2, talks to the app over a WebSocket, and reloads on an edit", async () => {
    // The certificate was made by this test; the browser is told to accept it, in this test only.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    onCleanup(() => context.close());
    const page = await context.newPage();
    await page.goto(`https://localhost:${server.port}/api/app`);
    expect(await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol')).toBe('h2');
    await page.locator('#out', { hasText: 'echoed through serve-dir' }).waitFor({ timeout: WAIT_TIMEOUT_MS });
    expect(await page.locator('script[src*="/__serve-dir/client.js"]').count()).toBe(1);
    // Chromium asked by extended CONNECT on the page's HTTP/2 session (RFC 8441), which serve-dir offers.
    expect(protocols).toEqual(['websocket']);

    const reloaded = page.waitForEvent('load', { timeout: WAIT_TIMEOUT_MS });
    await writeFile(join(root, 'page.html'), '<p>new</p>');
    await reloaded;
    await page.locator('#out', { hasText: 'echoed through serve-dir' }).waitFor({ timeout: WAIT_TIMEOUT_MS });
  });
});
