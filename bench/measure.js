// What is measured on each server, in order: start-up time over several starts, then in one
// long-lived start its memory at rest, the five loads, and its memory under 50 large downloads.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadProblems } from './load.js';
import { READY_PATH, exitReason, startServer, stopServer } from './lifecycle.js';
import { peakResidentBytes, processTree, residentBytes, sampleResidentBytes, waitUntilIdle } from './proc.js';
import { LISTING_PATH, probeFile, probeListing, probeRevalidation } from './probes.js';

/** Time left to a server after its first answer before "RSS after start" is read. */
const RSS_SETTLE_MS = 1000;
const RSS_SAMPLE_MS = 100;
const WARM_UP_S = 1;
/** How long a server may go on with a previous run's work before the next run starts anyway. */
const IDLE_WAIT_MS = 15_000;
const FIFTY_CLIENTS = 50;

/**
 * @typedef {import('./load.js').LoadResult & { problems?: string, headers?: Record<string, string> }} Measured
 * @typedef {{ na: string }} NotApplicable
 * @typedef {Measured | NotApplicable} LoadFigure
 *
 * @typedef {object} Measurements
 * @property {{ samplesMs: number[], medianMs: number }} startup
 * @property {{ afterStartBytes: number, peakBytes: number, fiftyClientsLargeBytes?: number }} rss
 * @property {Record<string, LoadFigure>} load
 *
 * @typedef {object} Plan
 * @property {import('./corpus.js').Corpus} corpus
 * @property {import('./load.js').LoadGenerator} generator
 * @property {number} seconds     per load
 * @property {number} starts      start-up samples
 * @property {number} firstPort
 * @property {string} logDir
 * @property {AbortSignal} signal
 * @property {(message: string) => void} log
 *
 * @typedef {object} LoadSpec
 * @property {string} key
 * @property {string} title
 * @property {number} connections
 * @property {(corpus: import('./corpus.js').Corpus) => string} path
 * @property {(port: number, corpus: import('./corpus.js').Corpus) => Promise<import('./probes.js').Probe>} probe
 */

/** @type {LoadSpec[]} */
export const LOADS = [
  { key: 'small', title: '1 KiB file', connections: 50, path: (c) => c.files.small.path, probe: (port, c) => probeFile(port, c.files.small) },
  { key: 'medium', title: '135 KiB file', connections: 50, path: (c) => c.files.medium.path, probe: (port, c) => probeFile(port, c.files.medium) },
  { key: 'large', title: '100 MiB file', connections: 4, path: (c) => c.files.large.path, probe: (port, c) => probeFile(port, c.files.large) },
  { key: 'listing', title: '10,000-entry listing', connections: 4, path: () => LISTING_PATH, probe: (port) => probeListing(port) },
  { key: 'revalidate', title: '304 for the 1 KiB file', connections: 50, path: (c) => c.files.small.path, probe: (port, c) => probeRevalidation(port, c.files.small.path) },
];

const FIFTY_CLIENTS_TITLE = '50 clients on the 100 MiB file';

/**
 * The human name of a load run, for notes.
 * @param {string} key
 */
export function loadTitle(key) {
  return LOADS.find((spec) => spec.key === key)?.title ?? (key === 'fiftyClientsLarge' ? FIFTY_CLIENTS_TITLE : key);
}

/**
 * @param {string} name
 * @param {import('./servers.js').Prepared} prepared
 * @param {Plan} plan
 * @returns {Promise<Measurements>}
 */
export async function measureServer(name, prepared, plan) {
  const logPath = join(plan.logDir, `${name}.log`);
  const startup = await measureStartup(prepared, plan, logPath);
  plan.log(`${name}: start to first response ${startup.medianMs.toFixed(1)} ms (median of ${startup.samplesMs.length})`);
  const server = await startServer(prepared, { firstPort: plan.firstPort, logPath, signal: plan.signal });
  try {
    await delay(RSS_SETTLE_MS, undefined, { signal: plan.signal });
    const afterStartBytes = residentBytes(processTree(server.pid));
    await warmUp(server.port, plan);
    // Read after every run, as the high-water mark is lost if the server dies in a later one.
    let peakBytes = 0;
    const notePeak = () => (peakBytes = Math.max(peakBytes, peakResidentBytes(processTree(server.pid))));
    /** @type {Record<string, LoadFigure>} */
    const load = {};
    for (const spec of LOADS) {
      const figure = await measureLoad(server, spec, plan);
      load[spec.key] = figure;
      notePeak();
      plan.log(`${name}: ${spec.title}: ${describe(figure)}`);
    }
    const fifty = await measureFiftyClientsOnLarge(server, /** @type {LoadFigure} */ (load.large), plan);
    notePeak();
    load.fiftyClientsLarge = fifty.load;
    return { startup, rss: { afterStartBytes, peakBytes, fiftyClientsLargeBytes: fifty.residentBytes }, load };
  } finally {
    await stopServer(server);
  }
}

/**
 * Spawn to first 200, several times (each a fresh process); the median resists one slow start.
 * @param {import('./servers.js').Prepared} prepared
 * @param {Plan} plan
 * @param {string} logPath
 */
async function measureStartup(prepared, plan, logPath) {
  const samplesMs = [];
  for (let i = 0; i < plan.starts; i++) {
    const server = await startServer(prepared, { firstPort: plan.firstPort, logPath, signal: plan.signal });
    samplesMs.push(server.startMs);
    await stopServer(server);
  }
  return { samplesMs, medianMs: median(samplesMs) };
}

/**
 * A short discarded run, so that no server's JIT or caches warm up on the clock.
 * @param {number} port
 * @param {Plan} plan
 */
async function warmUp(port, plan) {
  await plan.generator.run({ port, path: READY_PATH, connections: FIFTY_CLIENTS, seconds: WARM_UP_S, signal: plan.signal });
}

/**
 * Probes the URL, then loads it; n/a when the server does not answer it as it should, or
 * when it is gone or the load generator broke down (the other figures still stand).
 * @param {import('./lifecycle.js').RunningServer} server
 * @param {LoadSpec} spec
 * @param {Plan} plan
 * @returns {Promise<LoadFigure>}
 */
async function measureLoad(server, spec, plan) {
  const gone = exitReason(server);
  if (gone) return { na: gone };
  try {
    await waitUntilIdle(processTree(server.pid), { maxMs: IDLE_WAIT_MS, signal: plan.signal });
    const probe = await spec.probe(server.port, plan.corpus);
    if (!probe.ok) return { na: probe.reason };
    const run = { port: server.port, path: spec.path(plan.corpus), connections: spec.connections, seconds: plan.seconds, headers: probe.headers };
    return annotate(await plan.generator.run({ ...run, signal: plan.signal }), probe.headers);
  } catch (error) {
    plan.signal.throwIfAborted();
    return { na: exitReason(server) ?? /** @type {Error} */ (error).message };
  }
}

/**
 * 50 clients downloading the 100 MiB file at once, the resident size sampled throughout:
 * a server that buffers whole files instead of streaming them shows it here.
 * @param {import('./lifecycle.js').RunningServer} server
 * @param {LoadFigure} large  the large-file figure, n/a when the server cannot serve it
 * @param {Plan} plan
 * @returns {Promise<{ load: LoadFigure, residentBytes?: number }>}
 */
async function measureFiftyClientsOnLarge(server, large, plan) {
  if ('na' in large) return { load: { na: large.na } };
  const gone = exitReason(server);
  if (gone) return { load: { na: gone } };
  await waitUntilIdle(processTree(server.pid), { maxMs: IDLE_WAIT_MS, signal: plan.signal });
  const sampler = sampleResidentBytes(processTree(server.pid), RSS_SAMPLE_MS);
  let residentBytes = 0;
  try {
    const run = { port: server.port, path: plan.corpus.files.large.path, connections: FIFTY_CLIENTS, seconds: plan.seconds };
    const result = await plan.generator.run({ ...run, signal: plan.signal }).finally(() => (residentBytes = sampler.stop()));
    return { load: annotate(result), residentBytes };
  } catch (error) {
    plan.signal.throwIfAborted();
    return { load: { na: exitReason(server) ?? /** @type {Error} */ (error).message } };
  }
}

/**
 * The load result with what is wrong with it, and the request headers it was run with.
 * @param {import('./load.js').LoadResult} result
 * @param {Record<string, string>} [headers]
 * @returns {Measured}
 */
function annotate(result, headers = {}) {
  const problems = loadProblems(result);
  return { ...result, ...(problems && { problems }), ...(Object.keys(headers).length > 0 && { headers }) };
}

/** @param {LoadFigure} figure */
function describe(figure) {
  if ('na' in figure) return `n/a (${figure.na})`;
  const rate = `${Math.round(figure.rps)} req/s, ${(figure.bytesPerSec / 1e6).toFixed(1)} MB/s, p99 ${figure.p99Ms.toFixed(2)} ms`;
  return figure.problems ? `${rate} — ${figure.problems}` : rate;
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? /** @type {number} */ (sorted[middle]) : (/** @type {number} */ (sorted[middle - 1]) + /** @type {number} */ (sorted[middle])) / 2;
}
