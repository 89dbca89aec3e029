#!/usr/bin/env node
// npm run bench:http2: the HTTP/2 figures of issue 15, in one run.
//  1. h2load against serve-dir (--tls-cert, h2), nginx (ssl + http2) and sirv-cli --http2, on the
//     1 KiB and 135 KiB files: req/s, the servers taking turns over rounds, the median kept.
//  2. A page of 300 ES modules in headless Chromium, cold and reloaded, served by serve-dir over
//     HTTP/1.1 (--no-http2) and over HTTP/2, both with TLS: the load time of each, and the ratio.
// The report (markdown) goes to stdout, progress to stderr, the raw figures to a JSON file.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, createPublicKey } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanUpOnExit, hasExited, runToEnd, spawnTracked, stopTracked } from './children.js';
import { findPeer, installMissingPeers } from './peers.js';
import { writeNginxConfig } from './nginx.js';
import { findFreePort } from './ports.js';
import { LOAD_CPU, SERVER_CPU, canPin, describeMachine, findExecutable, onCpu, packageVersion, pinThisProcess } from './system.js';

const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `Usage: npm run bench:http2 -- [options]   (or: node bench/http2.js [options])
  --seconds N        h2load duration per figure (default 5; 1 s of warm-up before it)
  --rounds N         rounds of h2load, the servers taking turns; the median is kept (default 3)
  --loads N          page loads per protocol and kind (cold, reload) (default 9)
  --latency LIST     the page's loads again with this latency added to each request by
                     Chromium's network emulation, in ms (default 0,20; 0 is loopback as is)
  --only LIST        some of: node-http2,serve-dir,nginx,sirv-cli,page (default all)
  --connections N    h2load clients (default 16), each with --streams concurrent streams
  --streams N        h2load -m (default 10)
  --peers-dir DIR    where sirv-cli is installed (default ~/.cache/serve-dir-peers, env PEERS_DIR)
  --out FILE         raw figures (default a JSON file in the temporary directory)`;

/** Progress goes to stderr, so that stdout holds only the report. @param {string} message */
const log = (message) => process.stderr.write(`bench:http2: ${message}\n`);

const TARGETS = {
  /** serve-dir h2 1 KiB req/s against sirv-cli --http2 */
  overSirv: 1.5,
  /** serve-dir h2 1 KiB req/s against nginx h2 */
  overNginx: 0.35,
  /** HTTP/1.1 reload time over HTTP/2 reload time, serve-dir */
  pageReload: 1.5,
};
const MODULES = 300;
/** Each module imports this many more: 300 modules in four levels, as a small app's tree. */
const MODULE_FANOUT = 8;

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      loads: { type: 'string', default: '9' },
      latency: { type: 'string', default: '0,20' },
      only: { type: 'string', default: 'node-http2,serve-dir,nginx,sirv-cli,page' },
      connections: { type: 'string', default: '16' },
      streams: { type: 'string', default: '10' },
      'peers-dir': { type: 'string', default: process.env.PEERS_DIR ?? join(process.env.HOME ?? tmpdir(), '.cache', 'serve-dir-peers') },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  const options = {
    seconds: positive(values.seconds, '--seconds'),
    rounds: positive(values.rounds, '--rounds'),
    loads: positive(values.loads, '--loads'),
    latencies: values.latency.split(',').map((ms) => (ms.trim() === '0' ? 0 : positive(ms.trim(), '--latency'))),
    connections: positive(values.connections, '--connections'),
    streams: positive(values.streams, '--streams'),
    only: values.only.split(',').map((name) => name.trim()),
    peersDir: values['peers-dir'],
  };
  const workDir = mkdtempSync(join(tmpdir(), 'serve-dir-bench-h2-'));
  // nginx started as root reads the files as its workers' user (nobody): let it through.
  chmodSync(workDir, 0o755);
  cleanUpOnExit(() => rmSync(workDir, { recursive: true, force: true }));
  const out = values.out ?? join(workDir, '..', `serve-dir-bench-http2-${Date.now()}.json`);
  const tls = makeCertificate(workDir);
  const root = makeCorpus(join(workDir, 'root'));
  pinThisProcess(LOAD_CPU);

  const servers = await prepareServers(options.only, { root, tls, workDir, peersDir: options.peersDir });
  const h2load = findExecutable('h2load');
  /** @type {Record<string, H2Figures>} */
  const throughput = {};
  if (!h2load) log('h2load is not on PATH (Debian: apt-get install nghttp2-client): no req/s rows');
  else if (servers.some((server) => server.available)) Object.assign(throughput, await measureThroughput(h2load, servers, options));

  /** @type {(PageFigures | { latencyMs: number, failed: string })[]} */
  const pages = [];
  for (const latencyMs of options.only.includes('page') ? options.latencies : []) {
    pages.push(await measurePageLoads(workDir, tls, options.loads, latencyMs).catch((error) => ({ latencyMs, failed: String(error.message ?? error) })));
  }

  const report = renderReport({ options, servers, throughput, pages });
  console.log(report);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: describeMachine(), options, servers, throughput, pages }, null, 2));
  console.log(`Raw results: ${out}`);
}

// ---------------------------------------------------------------- set-up

/** @param {string | undefined} text @param {string} flag */
function positive(text, flag) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} takes a whole number above 0, not ${text}`);
  return value;
}

class UsageError extends Error {}

/**
 * A self-signed certificate for localhost and 127.0.0.1, made with openssl (P-256, one day),
 * the same files for every server.
 * @param {string} workDir
 */
function makeCertificate(workDir) {
  const cert = join(workDir, 'cert.pem');
  const key = join(workDir, 'key.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr || made.error?.message}`);
  return { cert, key };
}

/**
 * The two files of the main benchmark, made the same way (bench/corpus.js): 1 KiB of text and
 * about 135 KiB of base64 lines.
 * @param {string} root
 */
function makeCorpus(root) {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'small.txt'), 'a'.repeat(1024));
  const base64 = Buffer.from(Array.from({ length: 100 * 1024 }, () => Math.floor(Math.random() * 256))).toString('base64');
  writeFileSync(join(root, 'medium.js'), base64.replace(/.{100}/g, '$&\n'));
  return root;
}

/**
 * @typedef {object} H2Server
 * @property {string} name
 * @property {boolean} available
 * @property {string} [version]
 * @property {string} [reason]   why it is not available
 * @property {(port: number) => { command: string, args: string[] }} [launch]
 */

/**
 * @param {string[]} only
 * @param {{ root: string, tls: { cert: string, key: string }, workDir: string, peersDir: string }} context
 * @returns {Promise<H2Server[]>}
 */
async function prepareServers(only, { root, tls, workDir, peersDir }) {
  /** @type {H2Server[]} */
  const servers = [];
  if (only.includes('node-http2')) {
    servers.push({
      name: 'node-http2',
      available: true,
      version: process.version,
      launch: (port) => ({ command: process.execPath, args: ['-e', NODE_HTTP2_SCRIPT, String(port), root, tls.cert, tls.key] }),
    });
  }
  if (only.includes('serve-dir')) {
    servers.push({
      name: 'serve-dir',
      available: true,
      version: packageVersion(REPO_DIR),
      launch: (port) => ({ command: process.execPath, args: [join(REPO_DIR, 'bin', 'serve-dir.js'), root, '--port', String(port), '--bind', '127.0.0.1', '--quiet', '--tls-cert', tls.cert, '--tls-key', tls.key] }),
    });
  }
  if (only.includes('nginx')) {
    const nginx = findExecutable('nginx') ?? ['/usr/sbin/nginx'].find((path) => spawnSync(path, ['-v']).status === 0);
    if (!nginx) servers.push({ name: 'nginx', available: false, reason: 'nginx is not installed' });
    else {
      const version = (spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr ?? '').trim().replace(/^nginx version:\s*nginx\//, '');
      const dir = join(workDir, 'nginx');
      servers.push({ name: 'nginx', available: true, version, launch: (port) => ({ command: nginx, args: ['-e', join(dir, 'error.log'), '-c', writeNginxConfig(dir, root, port, { ...tls, version })] }) });
    }
  }
  if (only.includes('sirv-cli')) {
    await installMissingPeers(peersDir, ['sirv-cli'], { log, signal: AbortSignal.timeout(5 * 60_000) });
    const peer = findPeer(peersDir, 'sirv-cli');
    if (!peer) servers.push({ name: 'sirv-cli', available: false, reason: `sirv-cli is not installed in ${peersDir} and npm could not install it` });
    else {
      servers.push({
        name: 'sirv-cli',
        available: true,
        version: peer.version,
        launch: (port) => ({ command: process.execPath, args: [peer.bin, root, '--http2', '--cert', tls.cert, '--key', tls.key, '--host', '127.0.0.1', '--port', String(port), '--quiet'] }),
      });
    }
  }
  return servers;
}

/**
 * A bare node:http2 secure server answering the two files from memory through the same
 * compatibility API (req, res) that serve-dir's handler uses: the ceiling for req/s that a
 * Node server of this shape can reach here. Not a target, a reference for reading the others.
 */
const NODE_HTTP2_SCRIPT = `
const http2 = require('node:http2');
const fs = require('node:fs');
const [port, root, cert, key] = process.argv.slice(1);
const bodies = { '/small.txt': fs.readFileSync(root + '/small.txt'), '/medium.js': fs.readFileSync(root + '/medium.js') };
http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), allowHTTP1: true }, (req, res) => {
  const body = bodies[req.url];
  if (!body) { res.statusCode = 404; res.end(); return; }
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', body.length);
  res.end(body);
}).listen(Number(port), '127.0.0.1');
`;

// ---------------------------------------------------------------- starting and stopping

/**
 * Spawns a server pinned to the server's CPU and waits for its first 200 over HTTPS.
 * @param {H2Server} server
 * @param {{ keepStdout?: boolean }} [options]  keep what it prints (serve-dir's request log)
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, port: number, stdout: () => string }>}
 */
async function startH2Server(server, { keepStdout = false } = {}) {
  if (!server.launch) throw new Error(`${server.name} is not available`);
  const port = await findFreePort(28443);
  const { command, args } = server.launch(port);
  const pinned = onCpu(SERVER_CPU, command, args);
  const child = spawnTracked(pinned.command, pinned.args, { stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'], cwd: REPO_DIR });
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (text) => (stderr += text));
  child.stdout?.setEncoding('utf8').on('data', (text) => (stdout += text));
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (hasExited(child)) throw new Error(`${server.name} exited before answering: ${stderr.trim().slice(-400)}`);
    if ((await httpsStatus(port, '/small.txt').catch(() => 0)) === 200) return { child, port, stdout: () => stdout };
    await delay(20);
  }
  await stopTracked(child);
  throw new Error(`${server.name} did not answer within 30 s`);
}

/** @param {number} port @param {string} path @returns {Promise<number>} */
function httpsStatus(port, path) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- h2load

/**
 * @typedef {object} H2loadRun
 * @property {number} reqPerSec
 * @property {number} succeeded
 * @property {number} failed     failed, errored and timed out requests, and answers other than 2xx
 * @property {string} protocol   as h2load negotiated it
 *
 * @typedef {{ small: H2loadRun[], medium: H2loadRun[] }} H2Figures
 */

/**
 * Rounds in which each server is started afresh, warmed up, and loaded with the 1 KiB then the
 * 135 KiB file; the order of the servers turns with each round, so that each meets the
 * machine's drift alike.
 * @param {string} h2load
 * @param {H2Server[]} servers
 * @param {{ seconds: number, rounds: number, connections: number, streams: number }} options
 */
async function measureThroughput(h2load, servers, options) {
  const available = servers.filter((server) => server.available);
  /** @type {Record<string, H2Figures>} */
  const figures = Object.fromEntries(available.map((server) => [server.name, { small: [], medium: [] }]));
  for (let round = 0; round < options.rounds; round++) {
    const order = available.map((_, i) => available[(i + round) % available.length]);
    for (const server of order) {
      if (!server) continue;
      log(`round ${round + 1}/${options.rounds}: ${server.name}`);
      let running;
      try {
        running = await startH2Server(server);
      } catch (error) {
        server.available = false;
        server.reason = /** @type {Error} */ (error).message;
        log(server.reason);
        continue;
      }
      try {
        for (const file of /** @type {const} */ (['small', 'medium'])) {
          const path = file === 'small' ? '/small.txt' : '/medium.js';
          figures[server.name]?.[file].push(await runH2load(h2load, running.port, path, options));
        }
      } finally {
        await stopTracked(running.child);
      }
    }
  }
  return figures;
}

/**
 * One h2load run: one thread pinned to the load CPU, `connections` clients of `streams`
 * streams each, a second of warm-up (V8 optimises the Node servers' hot paths) then `seconds`.
 * @param {string} h2load
 * @param {number} port
 * @param {string} path
 * @param {{ seconds: number, connections: number, streams: number }} options
 * @returns {Promise<H2loadRun>}
 */
async function runH2load(h2load, port, path, { seconds, connections, streams }) {
  const args = ['-t', '1', '-c', String(connections), '-m', String(streams), '-D', String(seconds), '--warm-up-time=1', `https://127.0.0.1:${port}${path}`];
  const pinned = onCpu(LOAD_CPU, h2load, args);
  const { stdout, stderr } = await runToEnd(pinned.command, pinned.args, { timeoutMs: (seconds + 30) * 1000 });
  const number = (/** @type {RegExp} */ pattern) => Number(pattern.exec(stdout)?.[1] ?? NaN);
  const reqPerSec = number(/finished in [\d.]+\w*, ([\d.]+) req\/s/);
  if (Number.isNaN(reqPerSec)) throw new Error(`h2load printed no result: ${(stdout + stderr).trim().slice(-400)}`);
  const succeeded = number(/(\d+) succeeded/);
  const failed = number(/(\d+) failed/) + number(/(\d+) errored/) + number(/(\d+) timeout/) + number(/status codes: \d+ 2xx, (\d+) 3xx/) + number(/(\d+) 4xx/) + number(/(\d+) 5xx/);
  const protocol = /Application protocol: (\S+)/.exec(stdout)?.[1] ?? '?';
  return { reqPerSec, succeeded, failed, protocol };
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

// ---------------------------------------------------------------- the 300-module page

/**
 * A page importing a tree of 300 small ES modules: m0 imports m1..m8, each of those eight
 * more, and so on, each module a few hundred bytes that adds its number to a sum. The page
 * marks the time when the whole graph has run.
 * @param {string} dir
 */
function makeModulePage(dir) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < MODULES; i++) {
    const children = Array.from({ length: MODULE_FANOUT }, (_, k) => MODULE_FANOUT * i + k + 1).filter((child) => child < MODULES);
    const imports = children.map((child) => `import { total as t${child} } from './m${child}.js';`).join('\n');
    const sum = ['0', ...children.map((child) => `t${child}`)].join(' + ');
    const body = `// module ${i} of ${MODULES}\n${imports}\nexport const label = 'module-${i}'.padEnd(64, '.');\nexport const total = ${i} + ${sum};\n`;
    writeFileSync(join(dir, `m${i}.js`), body);
  }
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>${MODULES} modules</title>\n<script type="module">\nimport { total } from './m0.js';\ndocument.title = String(total);\nwindow.__loadedAt = performance.now();\n</script>\n`,
  );
  return { expectedTotal: (MODULES * (MODULES - 1)) / 2 };
}

/**
 * @typedef {object} PageFigures
 * @property {number} latencyMs  added to every request by Chromium's network emulation (0: none)
 * @property {{ h1: number[], h2: number[] }} cold     ms from navigation to the graph having run, fresh browser context
 * @property {{ h1: number[], h2: number[] }} reload   the same after a reload (every module revalidated: 304s)
 * @property {string} chromium
 */

/**
 * serve-dir over HTTPS twice, with and without HTTP/2; headless Chromium loads the page cold
 * (a new context: empty cache, new connections) and then reloads it, `loads` times each, the
 * two servers alternating.
 * @param {string} workDir
 * @param {{ cert: string, key: string }} tls
 * @param {number} loads
 * @param {number} latencyMs  added by Chromium (DevTools network emulation) to each request;
 *   it models a LAN or a phone, where HTTP/1.1's six connections queue and HTTP/2 does not
 * @returns {Promise<PageFigures>}
 */
async function measurePageLoads(workDir, tls, loads, latencyMs) {
  const pageDir = join(workDir, 'modules');
  const { expectedTotal } = makeModulePage(pageDir);
  const launch = (/** @type {string[]} */ extra) => (/** @type {number} */ port) => ({
    command: process.execPath,
    // The request log stays on, as when a developer runs it: it tells the 304s of a reload.
    args: [join(REPO_DIR, 'bin', 'serve-dir.js'), pageDir, '--port', String(port), '--bind', '127.0.0.1', '--tls-cert', tls.cert, '--tls-key', tls.key, ...extra],
  });
  // The page is served from 127.0.0.1 as "localhost" would be; the ready check asks for small.txt.
  writeFileSync(join(pageDir, 'small.txt'), 'ready');
  const h1 = await startH2Server({ name: 'serve-dir --no-http2', available: true, launch: launch(['--no-http2']) }, { keepStdout: true });
  const h2 = await startH2Server({ name: 'serve-dir', available: true, launch: launch([]) }, { keepStdout: true });
  const notModified = (/** @type {{ stdout: () => string }} */ server) => server.stdout().match(/ 304 /g)?.length ?? 0;
  const { chromium } = await import('playwright-core');
  // In this benchmark only, its throwaway certificate is accepted by its key's hash. Not
  // --ignore-certificate-errors: Chromium caches nothing from a site whose certificate is in
  // error, so a reload would fetch every module again instead of revalidating it.
  const spki = createHash('sha256').update(createPublicKey(readFileSync(tls.cert)).export({ type: 'spki', format: 'der' })).digest('base64');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [`--ignore-certificate-errors-spki-list=${spki}`] });
  try {
    /** @type {PageFigures} */
    const figures = { latencyMs, cold: { h1: [], h2: [] }, reload: { h1: [], h2: [] }, chromium: browser.version() };
    for (let i = 0; i < loads + 1; i++) {
      for (const [protocol, server] of i % 2 === 0 ? /** @type {const} */ ([['h1', h1], ['h2', h2]]) : /** @type {const} */ ([['h2', h2], ['h1', h1]])) {
        const context = await browser.newContext();
        const page = await context.newPage();
        if (latencyMs > 0) {
          const devtools = await context.newCDPSession(page);
          await devtools.send('Network.enable');
          await devtools.send('Network.emulateNetworkConditions', { offline: false, latency: latencyMs, downloadThroughput: -1, uploadThroughput: -1 });
        }
        const url = `https://localhost:${server.port}/index.html`;
        const cold = await timedLoad(page, () => page.goto(url), expectedTotal);
        const before = notModified(server);
        const reload = await timedLoad(page, () => page.reload(), expectedTotal);
        // The reload must have revalidated the modules (304s), not fetched them whole. The
        // log line of the last may come just after the page has run.
        for (let wait = 0; notModified(server) - before < MODULES && wait < 50; wait++) await delay(20);
        const revalidated = notModified(server) - before;
        if (revalidated < MODULES) throw new Error(`the reload over ${protocol} revalidated ${revalidated} of ${MODULES} modules: the cache was not used`);
        const seen = await page.evaluate(() => /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0])?.nextHopProtocol);
        if (seen !== (protocol === 'h2' ? 'h2' : 'http/1.1')) throw new Error(`expected ${protocol}, Chromium used ${seen}`);
        await context.close();
        // The first pair warms both servers (and Chromium) up and is not counted.
        if (i === 0) continue;
        figures.cold[protocol].push(cold);
        figures.reload[protocol].push(reload);
      }
    }
    return figures;
  } finally {
    await browser.close();
    await stopTracked(h1.child);
    await stopTracked(h2.child);
  }
}

/**
 * @param {import('playwright-core').Page} page
 * @param {() => Promise<unknown>} navigate
 * @param {number} expectedTotal
 */
async function timedLoad(page, navigate, expectedTotal) {
  await navigate();
  await page.waitForFunction(() => typeof (/** @type {any} */ (window).__loadedAt) === 'number');
  const { loadedAt, title } = await page.evaluate(() => ({ loadedAt: /** @type {any} */ (window).__loadedAt, title: document.title }));
  if (title !== String(expectedTotal)) throw new Error(`the page's modules did not all run (title ${title})`);
  return loadedAt;
}

// ---------------------------------------------------------------- the report

/**
 * @param {{
 *   options: { seconds: number, rounds: number, loads: number, connections: number, streams: number },
 *   servers: H2Server[],
 *   throughput: Record<string, H2Figures>,
 *   pages: (PageFigures | { latencyMs: number, failed: string })[],
 * }} results
 */
function renderReport({ options, servers, throughput, pages }) {
  const lines = [`## serve-dir HTTP/2 benchmark, ${new Date().toISOString().slice(0, 10)}`, ''];
  const pinning = canPin ? `server on CPU ${SERVER_CPU}, h2load on CPU ${LOAD_CPU}` : 'not pinned';
  lines.push(
    `${describeMachine()}. h2load: ${options.connections} connections × ${options.streams} streams, one thread, 1 s warm-up then ${options.seconds} s; each figure the median of ${options.rounds} rounds, every server started afresh each round; ${pinning}. TLS with one self-signed P-256 certificate for all.`,
    '',
  );
  const medianOf = (/** @type {string} */ name, /** @type {'small' | 'medium'} */ file) => median((throughput[name]?.[file] ?? []).map((run) => run.reqPerSec));
  const warn = (/** @type {string} */ name, /** @type {'small' | 'medium'} */ file) => {
    const runs = throughput[name]?.[file] ?? [];
    const failed = runs.reduce((sum, run) => sum + run.failed, 0);
    const protocols = [...new Set(runs.map((run) => run.protocol))];
    return `${failed > 0 ? ` ⚠ ${failed} failed` : ''}${protocols.some((protocol) => protocol !== 'h2') ? ` ⚠ ${protocols.join('/')}` : ''}`;
  };
  const own = { small: medianOf('serve-dir', 'small'), medium: medianOf('serve-dir', 'medium') };
  lines.push('| server | version | 1 KiB req/s | 135 KiB req/s | serve-dir ÷ this (1 KiB) | serve-dir ÷ this (135 KiB) |', '| --- | --- | ---: | ---: | ---: | ---: |');
  for (const server of servers) {
    if (!server.available || !throughput[server.name]) {
      lines.push(`| ${server.name} | ${server.version ?? ''} | n/a | n/a | | | `);
      continue;
    }
    const small = medianOf(server.name, 'small');
    const medium = medianOf(server.name, 'medium');
    lines.push(`| ${server.name} | ${server.version} | ${Math.round(small)}${warn(server.name, 'small')} | ${Math.round(medium)}${warn(server.name, 'medium')} | ${ratio(own.small, small)} | ${ratio(own.medium, medium)} |`);
  }
  const unavailable = servers.filter((server) => server.reason);
  if (unavailable.length > 0) lines.push('', ...unavailable.map((server) => `- ${server.name}: ${server.reason}`));

  lines.push('', '### A page of 300 ES modules in headless Chromium (serve-dir, HTTPS, loopback)', '');
  const measuredPages = /** @type {PageFigures[]} */ (pages.filter((page) => !('failed' in page)));
  if (pages.length === 0) lines.push('Not measured (--only).');
  for (const page of pages) if ('failed' in page) lines.push(`Not measured with ${page.latencyMs} ms added: ${page.failed}`, '');
  const [first] = measuredPages;
  if (first) {
    lines.push(`Chromium ${first.chromium}; ${first.cold.h1.length} loads of each kind per protocol, alternating, after one pair not counted; median ms from navigation to the whole module graph having run. "Added latency": Chromium's network emulation delays each request by that much.`, '');
    lines.push('| added latency | load | HTTP/1.1 ms | HTTP/2 ms | HTTP/1.1 ÷ HTTP/2 |', '| ---: | --- | ---: | ---: | ---: |');
    for (const page of measuredPages) {
      for (const kind of /** @type {const} */ (['cold', 'reload'])) {
        const [h1, h2] = [median(page[kind].h1), median(page[kind].h2)];
        lines.push(`| ${page.latencyMs} ms | ${kind === 'cold' ? 'cold (new context, empty cache)' : 'reload (300 revalidations, 304)'} | ${h1.toFixed(0)} | ${h2.toFixed(0)} | ${ratio(h1, h2)} |`);
      }
    }
  }

  lines.push('', '### Targets', '');
  const verdict = (/** @type {number} */ value, /** @type {number} */ target) => (Number.isNaN(value) ? 'not measured' : value >= target ? `met (${value.toFixed(2)}×)` : `missed (${value.toFixed(2)}×)`);
  lines.push(`- HTTP/2 1 KiB ≥ ${TARGETS.overSirv}× sirv-cli --http2: ${verdict(own.small / medianOf('sirv-cli', 'small'), TARGETS.overSirv)}`);
  lines.push(`- HTTP/2 1 KiB ≥ ${TARGETS.overNginx}× nginx h2: ${verdict(own.small / medianOf('nginx', 'small'), TARGETS.overNginx)}`);
  for (const page of measuredPages) {
    lines.push(`- 300-module page reloads ≥ ${TARGETS.pageReload}× faster over HTTP/2 (${page.latencyMs} ms added): ${verdict(median(page.reload.h1) / median(page.reload.h2), TARGETS.pageReload)}`);
  }
  return lines.join('\n');
}

/** @param {number} a @param {number} b */
function ratio(a, b) {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '';
}

main().catch((error) => {
  if (error instanceof UsageError) {
    log(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
