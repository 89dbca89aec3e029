// The soak's large-page phase: under --watch, 8 clients GET (and 2 HEAD) the same 200 MiB page
// at once while another client keeps asking for a small page. The live-reload script is spliced
// into the page as it streams, so the server's memory must stay within its streaming budget, and
// the small page must keep coming. Before that was fixed, the server read each page whole: 8 of
// these took it to 2 GiB resident and stalled other clients for 8.8 s.
//
// Linux: memory is read from /proc/<pid>/status; elsewhere the phase is skipped.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

const PAGE_SIZE = 200 * MiB;
const CLIENTS = 8;
const HEADS = 2;
/** Peak resident growth allowed: the streaming budget (16 MiB) and scans (4 MiB), with room; one held page is 200. */
const MAX_PEAK_GROWTH = 64 * MiB;
/** Slowest small page allowed meanwhile: the loopback is saturated, but nobody waits for a page to be read whole. */
const MAX_SMALL_PAGE_MS = 3000;

function statusBytes(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** The page: markup at both ends, a hole in between (no disk used; zeros are text to a browser). */
function writeSparsePage(path) {
  const head = Buffer.from(`<!doctype html><meta charset="utf-8"><title>large</title><body>\n<p>${' '.repeat(2000)}</p>\n`);
  const tail = Buffer.from('\n<script>const s = "</body>";</script>\n</body></html>\n');
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, tail, 0, tail.length, PAGE_SIZE - tail.length);
  } finally {
    closeSync(fd);
  }
}

function fetchWhole(port, path, method = 'GET') {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let length = 0;
      let tail = Buffer.alloc(0);
      res.on('data', (chunk) => {
        length += chunk.length;
        tail = Buffer.concat([tail, chunk]).subarray(-256);
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, length, tail: tail.toString('latin1'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the phase; resolves with the failures (if any) and a line for the report. */
export async function soakLargePages(log) {
  if (!existsSync('/proc/self/status')) return { failures: [], summary: 'n/a (no /proc)' };
  const root = mkdtempSync(join(tmpdir(), 'serve-dir-soak-pages-'));
  writeSparsePage(join(root, 'large.html'));
  writeFileSync(join(root, 'small.html'), '<!doctype html><title>small</title><p>small page</p>\n');
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'serve-dir.js'), root, '--port', '0', '--bind', '127.0.0.1', '--quiet', '--watch'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const port = await new Promise((resolve, reject) => {
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (text) => {
        stdout += text;
        const match = /http:\/\/\S+:(\d+)/.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      exited.then(() => reject(new Error(`serve-dir --watch exited before listening: ${stderr}`)));
    });
    log(`large pages: ${CLIENTS} GETs and ${HEADS} HEADs of a ${PAGE_SIZE / MiB} MiB page under --watch`);
    // Live reload loaded and warm: what grows after this is what the pages cost.
    await fetchWhole(port, '/small.html');
    await fetchWhole(port, '/large.html', 'HEAD');
    const before = statusBytes(child.pid, 'VmRSS');

    let done = false;
    let slowestSmall = 0;
    const prober = (async () => {
      while (!done) slowestSmall = Math.max(slowestSmall, (await fetchWhole(port, '/small.html')).ms);
    })();
    const started = performance.now();
    const responses = await Promise.all([
      ...Array.from({ length: CLIENTS }, () => fetchWhole(port, '/large.html')),
      ...Array.from({ length: HEADS }, () => fetchWhole(port, '/large.html', 'HEAD')),
    ]);
    const seconds = (performance.now() - started) / 1000;
    done = true;
    await prober;
    const growth = statusBytes(child.pid, 'VmHWM') - before;

    const failures = [];
    const length = Number(responses[0].headers['content-length']);
    if (!(length > PAGE_SIZE)) failures.push(`large pages: Content-Length ${length}, not the page and the script`);
    for (const response of responses) {
      if (response.status !== 200 || Number(response.headers['content-length']) !== length) {
        failures.push(`large pages: a ${response.status} of ${response.headers['content-length']} bytes among 200s of ${length}`);
        break;
      }
    }
    for (const get of responses.slice(0, CLIENTS)) {
      if (get.length !== length || !/<\/script>\n<script src="\/__serve-dir\/client\.js"[^>]*><\/script><\/body><\/html>\n$/.test(get.tail)) {
        failures.push(`large pages: a GET got ${get.length} bytes ending ${JSON.stringify(get.tail.slice(-80))}`);
        break;
      }
    }
    if (growth > MAX_PEAK_GROWTH) failures.push(`large pages: resident memory peaked ${(growth / MiB).toFixed(0)} MiB above its start (bound: ${MAX_PEAK_GROWTH / MiB} MiB)`);
    if (slowestSmall > MAX_SMALL_PAGE_MS) failures.push(`large pages: a small page took ${slowestSmall.toFixed(0)} ms meanwhile (bound: ${MAX_SMALL_PAGE_MS} ms)`);
    if (stderr !== '') failures.push(`large pages: the server printed errors: ${stderr.slice(0, 1000)}`);
    const summary =
      `${CLIENTS} × ${PAGE_SIZE / MiB} MiB in ${seconds.toFixed(1)} s; resident ${(before / MiB).toFixed(0)} MiB, ` +
      `peak +${(growth / MiB).toFixed(1)} MiB; slowest small page meanwhile ${slowestSmall.toFixed(0)} ms`;
    return { failures, summary };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(root, { recursive: true, force: true });
  }
}
