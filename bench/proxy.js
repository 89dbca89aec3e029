// The reverse proxy's overhead (issue 15): the same small request to a node:http backend,
// straight to it and through `serve-dir --proxy`, with nginx's proxy_pass and a bare
// node:http proxy (a dozen lines, keep-alive to the backend) in the same run for scale.
// wrk measures the latency of one connection (p50, p99) and the throughput of ten.
import { writeFileSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hasExited, runToEnd, spawnTracked, stopTracked } from './children.js';
import { findFreePort } from './ports.js';
import { findExecutable } from './system.js';

const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The backend: ~100 bytes of JSON, as an API's small answer. */
const BACKEND = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ ok: true, items: [1, 2, 3], note: 'a small answer from the app server' }) + '\\n');
http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

/** The least a proxy can be in Node: keep-alive to the backend, headers passed as they are. */
const BARE_PROXY = `
const http = require('node:http');
const [port, backend] = process.argv.slice(1).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
http.createServer((req, res) => {
  const out = http.request({ host: '127.0.0.1', port: backend, path: req.url, method: req.method, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
}).listen(port, '127.0.0.1');
`;

/**
 * @param {{ seconds?: number, rounds?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<ProxyFigures | undefined>}
 */
export async function measureProxyOverhead({ seconds = 5, rounds = 3, log = () => {} } = {}) {
  const wrk = findExecutable('wrk');
  if (!wrk) {
    log('proxy overhead: wrk not found (apt-get install wrk); not measured');
    return undefined;
  }
  const work = mkdtempSync(join(tmpdir(), 'serve-dir-proxy-bench-'));
  const started = [];
  try {
    const backendPort = await findFreePort(29000);
    started.push(await startChild('backend', process.execPath, ['-e', BACKEND, String(backendPort)], backendPort));
    const target = `http://127.0.0.1:${backendPort}`;
    mkdirSync(join(work, 'site'));
    /** @type {Record<string, number>} name → port */
    const ports = { direct: backendPort };

    ports['serve-dir'] = await findFreePort(29010);
    started.push(await startChild('serve-dir', process.execPath, [join(REPO_DIR, 'bin/serve-dir.js'), join(work, 'site'), '--port', String(ports['serve-dir']), '--quiet', '--proxy', `/api=${target}`], ports['serve-dir']));

    ports['node:http proxy'] = await findFreePort(29020);
    started.push(await startChild('node:http proxy', process.execPath, ['-e', BARE_PROXY, String(ports['node:http proxy']), String(backendPort)], ports['node:http proxy']));

    const nginx = findExecutable('nginx');
    if (nginx) {
      ports.nginx = await findFreePort(29030);
      const conf = join(work, 'nginx.conf');
      writeFileSync(conf, nginxConfig(work, ports.nginx, backendPort));
      started.push(await startChild('nginx', nginx, ['-c', conf, '-p', work], ports.nginx));
    }

    /** @type {Record<string, { p50: number[], p99: number[], reqPerSec: number[] }>} */
    const runs = {};
    for (let round = 0; round < rounds; round++) {
      for (const [name, port] of Object.entries(ports)) {
        log(`proxy overhead: round ${round + 1}/${rounds}, ${name}`);
        const url = `http://127.0.0.1:${port}/api/items?page=2`;
        await runWrk(wrk, url, 1, 1); // warm-up: connections and JIT
        const one = await runWrk(wrk, url, 1, seconds);
        const ten = await runWrk(wrk, url, 10, seconds);
        const entry = (runs[name] ??= { p50: [], p99: [], reqPerSec: [] });
        entry.p50.push(one.p50);
        entry.p99.push(one.p99);
        entry.reqPerSec.push(ten.reqPerSec);
      }
    }
    /** @type {ProxyFigures['servers']} */
    const servers = {};
    for (const [name, entry] of Object.entries(runs)) {
      servers[name] = { p50: median(entry.p50), p99: median(entry.p99), reqPerSec: median(entry.reqPerSec) };
    }
    return { seconds, rounds, direct: servers.direct, proxied: servers['serve-dir'], servers };
  } finally {
    for (const child of started.reverse()) await stopTracked(child);
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * @typedef {{ p50: number, p99: number, reqPerSec: number }} ProxyFigure  p50/p99 in ms
 * @typedef {{ seconds: number, rounds: number, direct: ProxyFigure, proxied: ProxyFigure, servers: Record<string, ProxyFigure> }} ProxyFigures
 */

/** @param {ProxyFigures} figures @returns {string[]} markdown lines */
export function renderProxyOverhead(figures) {
  const { direct } = figures;
  const lines = [
    `A ~100-byte answer from a node:http backend on this machine; wrk: p50 and p99 of one connection, req/s of ten, ${figures.seconds} s each, the median of ${figures.rounds} rounds. "Adds" is the p50 beyond the direct request's.`,
    '',
    '| path | p50 ms | p99 ms | adds at p50 | p50 ÷ direct | req/s (10 connections) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, figure] of Object.entries(figures.servers)) {
    const adds = name === 'direct' ? '' : `${((figure.p50 - direct.p50) * 1000).toFixed(0)} µs`;
    lines.push(`| ${name === 'direct' ? 'straight to the backend' : `through ${name}`} | ${figure.p50.toFixed(3)} | ${figure.p99.toFixed(3)} | ${adds} | ${(figure.p50 / direct.p50).toFixed(2)}× | ${Math.round(figure.reqPerSec)} |`);
  }
  return lines;
}

/** @param {string} dir @param {number} port @param {number} backendPort */
function nginxConfig(dir, port, backendPort) {
  return `worker_processes 1;
daemon off;
error_log ${join(dir, 'nginx-error.log')} error;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  upstream app { server 127.0.0.1:${backendPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location /api/ {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}

/** @param {string} name @param {string} command @param {string[]} args @param {number} port */
async function startChild(name, command, args, port) {
  const child = spawnTracked(command, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO_DIR });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text) => (stderr += text));
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (hasExited(child)) throw new Error(`${name} exited before answering: ${stderr.trim().slice(-400)}`);
    if (await answers(port)) return child;
    await delay(20);
  }
  await stopTracked(child);
  throw new Error(`${name} did not answer within 30 s`);
}

/** @param {number} port */
function answers(port) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/ping', headers: { host: `localhost:${port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** @param {string} wrk @param {string} url @param {number} connections @param {number} seconds */
async function runWrk(wrk, url, connections, seconds) {
  // The Host must be one serve-dir accepts on loopback.
  const port = new URL(url).port;
  const { stdout, code } = await runToEnd(wrk, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `Host: localhost:${port}`, url], { timeoutMs: (seconds + 30) * 1000 });
  if (code !== 0) throw new Error(`wrk failed on ${url}: ${stdout.slice(-300)}`);
  if (/Non-2xx/.test(stdout)) throw new Error(`wrk saw errors on ${url}: ${stdout}`);
  const percentile = (/** @type {string} */ p) => toMs(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout));
  const reqPerSec = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  return { p50: percentile('50'), p99: percentile('99'), reqPerSec };
}

/** @param {RegExpExecArray | null} match */
function toMs(match) {
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// Run alone: `node bench/proxy.js [seconds] [rounds]`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [seconds, rounds] = process.argv.slice(2).map(Number);
  const figures = await measureProxyOverhead({ seconds: seconds || 5, rounds: rounds || 3, log: (line) => console.error(line) });
  console.log(figures ? renderProxyOverhead(figures).join('\n') : 'not measured');
  process.exit(0);
}
