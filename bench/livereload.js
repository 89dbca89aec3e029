// Live reload against the targets of issue 4, measured the way a person meets them: a real
// server process, a real tree, a real browser.
//
//   npm run bench:livereload                 build, then measure (about a minute)
//   node bench/livereload.js                 measure the current build
//   node bench/livereload.js --rounds 5      fewer edits per figure
//   SERVE_DIR_BIN=/elsewhere/bin/serve-dir.js node bench/livereload.js
//                                            measure another build (an older one, say) the same way
//
// Linux only (it reads /proc). Chromium is used from /usr/bin/chromium (CHROMIUM=/path to use
// another) through playwright-core; no browser is ever downloaded.
//
// What it does:
//   1. Builds a tree under the system's temporary folder: 5,000 files in 103 folders (an
//      index.html that links css/site.css, pages in pages/NN/), 2,000 in node_modules and a few
//      in .git; removed at the end.
//   2. Spawns `node bin/serve-dir.js TREE --watch --port 0 --bind 127.0.0.1 --quiet`, reads the
//      URL from its banner, opens the event stream and writes a file every 50 ms until an event
//      says it was seen: spawn -> that event is an upper bound of the time to be ready.
//   3. Resident memory (VmRSS) of the server 1 s after it is ready and 1 s after the first edit
//      seen in the browser; its inotify watches (from /proc/PID/fdinfo), and how many are on
//      node_modules or .git (their folders' inodes).
//   4. In headless Chromium: N stylesheet saves, save -> new computed colour seen in the page;
//      N saves of index.html, save -> reloaded page showing the new text; each time is from
//      Date.now() just before the write to Date.now() in the page at the first animation frame
//      that shows it (same machine, same clock). Medians.
//   5. Bursts: a tool writes 20 pages at once, then saves index.html; the page must reload
//      exactly once per burst. Twice each way: 20 writes started together, and 20 written one
//      after the other (each awaited), the save following at once.
//   6. A table: metric, measured, target, pass or fail.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { cleanUpOnExit, spawnTracked, stopTracked } from './children.js';
import { peakResidentBytes } from './proc.js';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SERVE_DIR_BIN = process.env.SERVE_DIR_BIN ?? path.join(REPO, 'bin/serve-dir.js');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Files outside node_modules and .git, index.html and css/site.css included. */
const SITE_FILES = 5000;
const SITE_FOLDERS = 100;
const PACKAGES = 40;
const FILES_PER_PACKAGE = 50;
const BURST_FILES = 20;
/** Long enough after a burst's reload for a second one to have come (the batcher flushes within 150 ms). */
const SECOND_RELOAD_WAIT_MS = 1000;
/** How often the ready probe writes its file until the server reports it. */
const READY_PROBE_INTERVAL_MS = 50;

const MB = 1024 * 1024;

/**
 * @typedef {{ metric: string, measured: string, target: string, pass?: boolean }} Row
 */

async function main() {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write('usage: node bench/livereload.js [--rounds N]   (SERVE_DIR_BIN, CHROMIUM: see the top of the file)\n');
    return;
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number, got "${values.rounds}"`);
  if (process.platform !== 'linux') throw new Error('this benchmark reads /proc: Linux only');

  const root = await mkdtemp(path.join(os.tmpdir(), 'serve-dir-livereload-bench-'));
  cleanUpOnExit(() => rmSync(root, { recursive: true, force: true }));
  try {
    progress(`building the tree in ${root}`);
    const counts = await buildTree(root);
    progress(`${counts.site} files to watch, ${counts.nodeModules} in node_modules, ${counts.git} in .git; server: ${SERVE_DIR_BIN}`);
    const rows = await measure(root, rounds);
    printReport(rows, counts, rounds);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** @param {string} line */
function progress(line) {
  process.stderr.write(`· ${line}\n`);
}

/** @param {number} round */
const stylesheet = (round) => `body { color: rgb(${round % 256}, 100, 200); }\n`;
/** @param {number} round */
const stylesheetColour = (round) => `rgb(${round % 256}, 100, 200)`;
/** @param {string} title */
const indexPage = (title) =>
  `<!doctype html>\n<html><head><meta charset="utf-8"><title>bench</title><link rel="stylesheet" href="/css/site.css"></head>\n` +
  `<body><h1 id="title">${title}</h1><p>A page of the live-reload benchmark.</p></body></html>\n`;
/** @param {number} folder @param {number} file */
const pagePath = (folder, file) => `pages/${String(folder).padStart(2, '0')}/page${file}.html`;

/** @param {string} root */
async function buildTree(root) {
  /** @type {Map<string, string>} */
  const files = new Map([
    ['index.html', indexPage('start')],
    ['css/site.css', stylesheet(0)],
  ]);
  for (let page = 0; files.size < SITE_FILES; page++) {
    files.set(pagePath(page % SITE_FOLDERS, Math.floor(page / SITE_FOLDERS)), `<p>page ${page}</p>\n`);
  }
  const site = files.size;
  for (let pkg = 0; pkg < PACKAGES; pkg++) {
    for (let file = 0; file < FILES_PER_PACKAGE; file++) {
      files.set(`node_modules/pkg${pkg}/${file % 2 ? 'lib' : 'dist'}/file${file}.js`, `module.exports = ${file};\n`);
    }
  }
  const git = ['HEAD', 'config', 'description', 'index', 'objects/ab/cdef0123456789', 'refs/heads/main'];
  for (const name of git) files.set(`.git/${name}`, `${name}\n`);
  for (const [name, content] of files) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  return { site, nodeModules: PACKAGES * FILES_PER_PACKAGE, git: git.length };
}

/**
 * What each part of the measurement works with.
 * @typedef {{
 *   root: string,
 *   pid: number,
 *   rounds: number,
 *   events: EventStream,
 *   page: import('playwright-core').Page,
 *   loads: () => number,
 * }} Session
 */

/**
 * @param {string} root
 * @param {number} rounds
 * @returns {Promise<Row[]>}
 */
async function measure(root, rounds) {
  const spawnedAt = Date.now();
  const server = spawnTracked(process.execPath, [SERVE_DIR_BIN, root, '--watch', '--port', '0', '--bind', '127.0.0.1', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const pid = /** @type {number} */ (server.pid);
  let browser;
  try {
    const origin = await bannerUrl(server);
    const listeningMs = Date.now() - spawnedAt;
    const events = await EventStream.open(`${origin}/__serve-dir/events`);
    const readyMs = (await firstSeenWrite(root, events)) - spawnedAt;
    /** @type {Row[]} */
    const rows = [
      { metric: 'spawn -> listening', measured: `${listeningMs} ms`, target: '' },
      { metric: 'spawn -> a write is reported (ready, upper bound)', measured: `${readyMs} ms`, target: '< 1000 ms', pass: readyMs < 1000 },
    ];
    await delay(1000);
    rows.push({ metric: 'RSS 1 s after ready', measured: describeMemory(memoryOf(pid)), target: '' }, ...(await watchRows(root, pid)));

    progress('starting Chromium');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    // In every document: the time of the first animation frame at which the title is there.
    await page.addInitScript(() => {
      const look = () => {
        const title = document.getElementById('title');
        if (title) /** @type {any} */ (window).__titleShownAt = { at: Date.now(), text: title.textContent };
        else requestAnimationFrame(look);
      };
      requestAnimationFrame(look);
    });
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => /** @type {any} */ (window).__serveDir?.server != null);

    /** @type {Session} */
    const session = { root, pid, rounds, events, page, loads: () => loads };
    rows.push(...(await stylesheetSaves(session)), ...(await pageSaves(session)), ...(await bursts(session)));
    rows.push({ metric: 'server peak RSS (VmHWM) over the run', measured: `${(peakResidentBytes([pid]) / MB).toFixed(1)} MB`, target: '' });
    events.close();
    return rows;
  } finally {
    await browser?.close();
    await stopTracked(server);
  }
}

/**
 * The server's inotify watches: how many, how many on the folders it should watch, and how
 * many on node_modules and .git (which must have none).
 * @param {string} root
 * @param {number} pid
 * @returns {Promise<Row[]>}
 */
async function watchRows(root, pid) {
  const watches = await inotifyWatches(pid);
  const ignored = await folderInodes([path.join(root, 'node_modules'), path.join(root, '.git')]);
  const onIgnored = watches.filter((inode) => ignored.has(inode)).length;
  const siteFolders = await folderInodes([root], ['node_modules', '.git']);
  const onSiteFolders = watches.filter((inode) => siteFolders.has(inode)).length;
  return [
    { metric: 'inotify watches', measured: `${watches.length} (${onSiteFolders} on the ${siteFolders.size} watched folders)`, target: '' },
    { metric: 'inotify watches on node_modules/.git', measured: String(onIgnored), target: '0', pass: onIgnored === 0 },
  ];
}

/**
 * Stylesheet saves: save -> the new colour computed in the page, without a reload; and the
 * server's memory after the first one.
 * @param {Session} session
 * @returns {Promise<Row[]>}
 */
async function stylesheetSaves({ root, pid, rounds, events, page }) {
  progress(`${rounds} stylesheet saves`);
  await page.evaluate(() => (/** @type {any} */ (window).__sameDocument = true));
  const applyTimes = [];
  const eventTimes = [];
  const eventsBefore = events.changes;
  let afterFirstEdit = { resident: 0, anonymous: 0 };
  for (let round = 1; round <= rounds; round++) {
    const applied = page.waitForFunction(
      (colour) => getComputedStyle(document.body).color === colour && Date.now(),
      stylesheetColour(round),
      { polling: 'raf', timeout: 5000 },
    );
    // The page must be polling before the save.
    await page.evaluate(() => new Promise(requestAnimationFrame));
    const told = events.nextChange();
    const savedAt = Date.now();
    writeFileSync(path.join(root, 'css/site.css'), stylesheet(round));
    applyTimes.push(/** @type {number} */ (await (await applied).jsonValue()) - savedAt);
    eventTimes.push((await told) - savedAt);
    await events.drain();
    if (round === 1) {
      await delay(1000);
      afterFirstEdit = memoryOf(pid);
    }
  }
  const eventCount = events.changes - eventsBefore;
  const stayed = await page.evaluate(() => /** @type {any} */ (window).__sameDocument === true);
  return [
    {
      metric: `save -> new CSS applied, median of ${rounds}`,
      measured: `${median(applyTimes)} ms (${range(applyTimes)})`,
      target: '< 30 ms',
      pass: median(applyTimes) < 30,
    },
    { metric: '  of which save -> event received (a client in node)', measured: `${median(eventTimes)} ms (${range(eventTimes)})`, target: '' },
    { metric: 'CSS swapped without a reload', measured: stayed ? 'yes' : 'no: the page reloaded', target: 'yes', pass: stayed },
    { metric: `change events for ${rounds} stylesheet saves`, measured: String(eventCount), target: String(rounds), pass: eventCount === rounds },
    {
      metric: 'RSS 1 s after the first edit',
      measured: describeMemory(afterFirstEdit),
      target: '< 80 MB',
      pass: afterFirstEdit.resident < 80 * MB,
    },
  ];
}

/**
 * Saves of index.html: save -> the reloaded page showing the new title.
 * @param {Session} session
 * @returns {Promise<Row[]>}
 */
async function pageSaves({ root, rounds, events, page, loads }) {
  progress(`${rounds} saves of index.html`);
  const shownTimes = [];
  const eventTimes = [];
  const eventsBefore = events.changes;
  const loadsBefore = loads();
  for (let round = 1; round <= rounds; round++) {
    const title = `round ${round}`;
    const loaded = page.waitForEvent('load', { timeout: 5000 });
    const told = events.nextChange();
    const savedAt = Date.now();
    writeFileSync(path.join(root, 'index.html'), indexPage(title));
    eventTimes.push((await told) - savedAt);
    await loaded;
    const shown = await (await page.waitForFunction(() => /** @type {any} */ (window).__titleShownAt, undefined, { polling: 'raf' })).jsonValue();
    if (shown?.text !== title) throw new Error(`the reloaded page shows "${shown?.text}", not "${title}"`);
    shownTimes.push(shown.at - savedAt);
    await events.drain();
  }
  const eventCount = events.changes - eventsBefore;
  const loadCount = loads() - loadsBefore;
  return [
    {
      metric: `save -> reloaded page shows the edit, median of ${rounds}`,
      measured: `${median(shownTimes)} ms (${range(shownTimes)})`,
      target: '< 80 ms',
      pass: median(shownTimes) < 80,
    },
    { metric: '  of which save -> event received (a client in node)', measured: `${median(eventTimes)} ms (${range(eventTimes)})`, target: '' },
    {
      metric: `change events, page loads for ${rounds} saves of index.html`,
      measured: `${eventCount}, ${loadCount}`,
      target: `${rounds}, ${rounds}`,
      pass: eventCount === rounds && loadCount === rounds,
    },
  ];
}

/**
 * A tool writes 20 pages, then index.html is saved at once: one reload per burst, never two.
 * @param {Session} session
 * @returns {Promise<Row[]>}
 */
async function bursts({ root, events, page, loads }) {
  progress('bursts');
  const writers = [
    { label: 'at once', write: (/** @type {string} */ text) => Promise.all(burstPaths().map((file) => writeFile(path.join(root, file), text))) },
    {
      label: 'one after the other',
      write: async (/** @type {string} */ text) => {
        for (const file of burstPaths()) await writeFile(path.join(root, file), text);
      },
    },
  ];
  /** @type {Row[]} */
  const rows = [];
  for (const { label, write } of writers) {
    const reloads = [];
    const eventCounts = [];
    for (let trial = 0; trial < 2; trial++) {
      await events.drain();
      const loadsBefore = loads();
      const eventsBefore = events.changes;
      const loaded = page.waitForEvent('load', { timeout: 5000 });
      await write(`<p>burst ${label} ${trial}</p>\n`);
      writeFileSync(path.join(root, 'index.html'), indexPage(`burst ${label} ${trial}`));
      await loaded;
      await delay(SECOND_RELOAD_WAIT_MS);
      reloads.push(loads() - loadsBefore);
      eventCounts.push(events.changes - eventsBefore);
    }
    rows.push({
      metric: `burst: ${BURST_FILES} pages written ${label}, then a save -> reloads`,
      measured: `${reloads.join(', ')} (events: ${eventCounts.join(', ')})`,
      target: 'exactly 1 each',
      pass: reloads.every((count) => count === 1),
    });
  }
  return rows;
}

function burstPaths() {
  return Array.from({ length: BURST_FILES }, (_, file) => pagePath(1, file));
}

/**
 * The URL the server prints on its "Local:" line.
 * @param {import('node:child_process').ChildProcess} server
 * @returns {Promise<string>}
 */
function bannerUrl(server) {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (/** @type {string} */ chunk) => {
      output += chunk;
      const match = /Local:\s+(http:\/\/[\w.:[\]-]+)/.exec(output);
      if (match) {
        server.stdout?.off('data', onData);
        server.stdout?.resume();
        resolve(match[1]);
      }
    };
    server.stdout?.setEncoding('utf8').on('data', onData);
    server.once('exit', (code) => reject(new Error(`the server exited (${code}) before printing its URL:\n${output}`)));
  });
}

/**
 * Writes a file every READY_PROBE_INTERVAL_MS until the server reports a change; resolves with
 * the Date.now() at which the report arrived.
 * @param {string} root
 * @param {EventStream} events
 */
async function firstSeenWrite(root, events) {
  const probe = path.join(root, 'ready-probe.txt');
  writeFileSync(probe, 'probe 0');
  const seen = events.nextChange();
  for (let n = 1; ; n++) {
    const arrived = await Promise.race([seen, delay(READY_PROBE_INTERVAL_MS, undefined)]);
    if (arrived !== undefined) return arrived;
    if (n * READY_PROBE_INTERVAL_MS > 30_000) throw new Error('no change reported within 30 s');
    writeFileSync(probe, `probe ${n}`);
  }
}

/** A minimal Server-Sent Events reader: counts "change" events and tells when the next one arrives. */
class EventStream {
  changes = 0;
  /** @type {((at: number) => void)[]} */
  #waiting = [];
  #buffer = '';
  /** @type {http.IncomingMessage} */
  #response;

  /** @param {http.IncomingMessage} response */
  constructor(response) {
    this.#response = response;
    response.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
      this.#buffer += chunk;
      let end;
      while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
        if (data === '' || JSON.parse(data).type !== 'change') continue;
        this.changes++;
        const at = Date.now();
        for (const resolve of this.#waiting.splice(0)) resolve(at);
      }
    });
  }

  /** @param {string} url @returns {Promise<EventStream>} */
  static open(url) {
    return new Promise((resolve, reject) => {
      http.get(url, { headers: { Accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${url}: status ${response.statusCode}`));
        else resolve(new EventStream(response));
      }).on('error', reject);
    });
  }

  /** @returns {Promise<number>} the Date.now() at which the next change event arrives */
  nextChange() {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Resolves once no change event has come for a while: what the last edit set off is over. */
  async drain() {
    for (let count = -1; count !== this.changes; ) {
      count = this.changes;
      await delay(200);
    }
  }

  close() {
    this.#response.destroy();
  }
}

/**
 * Inode numbers of what a process watches with inotify, one per watch.
 * @param {number} pid
 */
async function inotifyWatches(pid) {
  const inodes = [];
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target !== 'anon_inode:inotify') continue;
    const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    for (const match of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) inodes.push(Number.parseInt(match[1], 16));
  }
  return inodes;
}

/**
 * Inodes of the given folders and of every folder under them, except those named in `skip`.
 * @param {string[]} folders
 * @param {string[]} [skip]
 */
async function folderInodes(folders, skip = []) {
  const inodes = new Set();
  const pending = [...folders];
  while (pending.length > 0) {
    const folder = /** @type {string} */ (pending.pop());
    inodes.add((await stat(folder)).ino);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.isDirectory() && !skip.includes(entry.name)) pending.push(path.join(folder, entry.name));
    }
  }
  return inodes;
}

/**
 * Resident memory of a process, and the part of it that is its own (not pages of the node
 * binary and libraries, which are shared and which the kernel can drop).
 * @param {number} pid
 */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (/** @type {string} */ field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { resident: kB('VmRSS'), anonymous: kB('RssAnon') };
}

/** @param {{ resident: number, anonymous: number }} memory */
function describeMemory({ resident, anonymous }) {
  return `${(resident / MB).toFixed(1)} MB (${(anonymous / MB).toFixed(1)} MB anonymous)`;
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** @param {number[]} values */
function range(values) {
  return `${Math.min(...values)}-${Math.max(...values)}`;
}

/**
 * @param {Row[]} rows
 * @param {{ site: number, nodeModules: number, git: number }} counts
 * @param {number} rounds
 */
function printReport(rows, counts, rounds) {
  const [load1] = os.loadavg();
  const lines = [
    `serve-dir live reload: ${counts.site + counts.nodeModules + counts.git} files (${counts.nodeModules} in node_modules, ${counts.git} in .git), ` +
      `${rounds} edits per figure; ${os.cpus().length} CPUs, load average ${load1.toFixed(2)} at the end; node ${process.version}; server ${SERVE_DIR_BIN}`,
    '',
    '| metric | measured | target | |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.metric} | ${row.measured} | ${row.target} | ${row.pass === undefined ? '' : row.pass ? 'pass' : 'FAIL'} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench/livereload.js: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
