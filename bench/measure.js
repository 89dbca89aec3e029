// What is measured: for each server in turn, start-up time over several starts, then a start
// that is kept, with its memory at rest; then the five loads in rounds over all the kept
// servers; last, for each in turn, its memory under 50 large downloads.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadProblems } from './load.js';
import { exitReason, startServer, stopServer } from './lifecycle.js';
import { peakResidentBytes, processTree, residentBytes, sampleResidentBytes, waitUntilIdle } from './proc.js';
import { LISTING_PATH, probeFile, probeListing, probeRevalidation } from './probes.js';

/** Time left to a server after its first answer before "RSS after start" is read. */
const RSS_SETTLE_MS = 1000;
const RSS_SAMPLE_MS = 100;
/**
 * Per file URL. V8 optimizes a server's hot paths over its first seconds under load, on
 * background threads that share the server's CPU; a second was not enough to leave that out
 * of the first measured round.
 */
const WARM_UP_S = 2;
/** How long a server may go on with a previous run's work before the next run starts anyway. */
const IDLE_WAIT_MS = 15_000;
const FIFTY_CLIENTS = 50;

/**
 * @typedef {import('./load.js').LoadResult & { problems?: string, headers?: Record<string, string>, rounds?: number[] }} Measured
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
 * @property {number} rounds      runs of each load on each server; the median is kept
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
 * @typedef {object} LiveServer  a server kept running for the loads
 * @property {string} name
 * @property {import('./lifecycle.js').RunningServer} server
 * @property {{ samplesMs: number[], medianMs: number }} startup
 * @property {number} afterStartBytes
 * @property {number} peakBytes
 * @property {Record<string, LoadFigure>} load
 */

/**
 * Times several starts, then starts the server once more and keeps it: its memory at rest is
 * read and it is warmed up.
 * @param {string} name
 * @param {import('./servers.js').Prepared} prepared
 * @param {Plan} plan
 * @returns {Promise<LiveServer>}
 */
export async function startAndSettle(name, prepared, plan) {
  const logPath = join(plan.logDir, `${name}.log`);
  const startup = await measureStartup(prepared, plan, logPath);
  plan.log(`${name}: start to first response ${startup.medianMs.toFixed(1)} ms (median of ${startup.samplesMs.length})`);
  const server = await startServer(prepared, { firstPort: plan.firstPort, logPath, signal: plan.signal });
  try {
    await delay(RSS_SETTLE_MS, undefined, { signal: plan.signal });
    const afterStartBytes = residentBytes(processTree(server.pid));
    await warmUp(server.port, plan);
    return { name, server, startup, afterStartBytes, peakBytes: 0, load: {} };
  } catch (error) {
    await stopServer(server);
    throw error;
  }
}

/**
 * The five loads, on every live server, in rounds: each round runs a load once on each
 * server, starting with a different one each time, and a server's figure is its median
 * round. On a shared machine the speed available drifts over minutes; interleaved, every
 * server meets the same drift, and one slow round moves no median.
 * @param {LiveServer[]} live
 * @param {Plan} plan
 */
export async function measureLoads(live, plan) {
  for (const spec of LOADS) {
    /** @type {Map<LiveServer, { headers: Record<string, string>, measured: Measured[] }>} */
    const runs = new Map();
    for (const entry of live) {
      const probed = await probe(entry, live, spec, plan);
      if ('na' in probed) entry.load[spec.key] = probed;
      else runs.set(entry, { headers: probed.headers, measured: [] });
    }
    for (let round = 0; round < plan.rounds; round++) {
      const order = [...runs.keys()];
      for (const entry of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
        const state = /** @type {{ headers: Record<string, string>, measured: Measured[] }} */ (runs.get(entry));
        const figure = await runLoad(entry, live, spec, state.headers, plan);
        if ('na' in figure) {
          entry.load[spec.key] = figure;
          runs.delete(entry);
        } else {
          state.measured.push(figure);
        }
        notePeak(entry);
      }
    }
    for (const [entry, { measured }] of runs) {
      entry.load[spec.key] = medianRun(spec, measured);
      plan.log(`${entry.name}: ${spec.title}: ${describe(entry.load[spec.key])}`);
    }
  }
}

/**
 * The memory under 50 large downloads, and the peak over the whole run; stops the server.
 * @param {LiveServer} entry
 * @param {LiveServer[]} live
 * @param {Plan} plan
 * @returns {Promise<Measurements>}
 */
export async function finish(entry, live, plan) {
  try {
    const fifty = await measureFiftyClientsOnLarge(entry, live, /** @type {LoadFigure} */ (entry.load.large), plan);
    notePeak(entry);
    entry.load.fiftyClientsLarge = fifty.load;
    return {
      startup: entry.startup,
      rss: { afterStartBytes: entry.afterStartBytes, peakBytes: entry.peakBytes, fiftyClientsLargeBytes: fifty.residentBytes },
      load: entry.load,
    };
  } finally {
    await stopServer(entry.server);
  }
}

/**
 * The high-water mark is read after every run, as it is lost if the server dies in a later one.
 * @param {LiveServer} entry
 */
function notePeak(entry) {
  if (!exitReason(entry.server)) entry.peakBytes = Math.max(entry.peakBytes, peakResidentBytes(processTree(entry.server.pid)));
}

/**
 * Until every live server is idle: one still busy with a previous run's work (listings for
 * clients that hung up, say) would take CPU from the one being measured.
 * @param {LiveServer[]} live
 * @param {Plan} plan
 */
async function allIdle(live, plan) {
  const pids = live.filter((entry) => !exitReason(entry.server)).flatMap((entry) => processTree(entry.server.pid));
  await waitUntilIdle(pids, { maxMs: IDLE_WAIT_MS, signal: plan.signal });
}

/**
 * The run of the median rate among the rounds (transfer for the large file, requests
 * otherwise), with every round's rate beside it and any round's problems flagged.
 * @param {LoadSpec} spec
 * @param {Measured[]} measured
 * @returns {Measured}
 */
function medianRun(spec, measured) {
  const rate = (/** @type {Measured} */ run) => (spec.key === 'large' ? run.bytesPerSec : run.rps);
  const sorted = [...measured].sort((a, b) => rate(a) - rate(b));
  const middle = /** @type {Measured} */ (sorted[Math.floor((sorted.length - 1) / 2)]);
  const problems = measured.flatMap((run) => (run.problems ? [run.problems] : []));
  const { problems: _own, ...figures } = middle;
  return {
    ...figures,
    rounds: measured.map(rate),
    ...(problems.length > 0 && { problems: problems.join('; ') }),
  };
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
 * Discarded runs on the two file URLs, so that no server's JIT or caches warm up on the clock.
 * @param {number} port
 * @param {Plan} plan
 */
async function warmUp(port, plan) {
  for (const path of [plan.corpus.files.small.path, plan.corpus.files.medium.path]) {
    await plan.generator.run({ port, path, connections: FIFTY_CLIENTS, seconds: WARM_UP_S, signal: plan.signal });
  }
}

/**
 * Checks that the server answers the URL as it should; n/a when it does not, or is gone.
 * @param {LiveServer} entry
 * @param {LiveServer[]} live
 * @param {LoadSpec} spec
 * @param {Plan} plan
 * @returns {Promise<{ headers: Record<string, string> } | NotApplicable>}
 */
async function probe(entry, live, spec, plan) {
  const gone = exitReason(entry.server);
  if (gone) return { na: gone };
  try {
    await allIdle(live, plan);
    const probed = await spec.probe(entry.server.port, plan.corpus);
    if (!probed.ok) return { na: probed.reason };
    return { headers: probed.headers };
  } catch (error) {
    plan.signal.throwIfAborted();
    return { na: exitReason(entry.server) ?? /** @type {Error} */ (error).message };
  }
}

/**
 * One round of a load on one server; n/a when it is gone or the load generator broke down
 * (the other figures still stand).
 * @param {LiveServer} entry
 * @param {LiveServer[]} live
 * @param {LoadSpec} spec
 * @param {Record<string, string>} headers  what the probe chose (an ETag for the 304 run)
 * @param {Plan} plan
 * @returns {Promise<LoadFigure>}
 */
async function runLoad(entry, live, spec, headers, plan) {
  const gone = exitReason(entry.server);
  if (gone) return { na: gone };
  try {
    await allIdle(live, plan);
    const run = { port: entry.server.port, path: spec.path(plan.corpus), connections: spec.connections, seconds: plan.seconds, headers };
    return annotate(await plan.generator.run({ ...run, signal: plan.signal }), headers);
  } catch (error) {
    plan.signal.throwIfAborted();
    return { na: exitReason(entry.server) ?? /** @type {Error} */ (error).message };
  }
}

/**
 * 50 clients downloading the 100 MiB file at once, the resident size sampled throughout:
 * a server that buffers whole files instead of streaming them shows it here.
 * @param {LiveServer} entry
 * @param {LiveServer[]} live
 * @param {LoadFigure | undefined} large  the large-file figure, n/a when the server cannot serve it
 * @param {Plan} plan
 * @returns {Promise<{ load: LoadFigure, residentBytes?: number }>}
 */
async function measureFiftyClientsOnLarge({ server }, live, large, plan) {
  if (large === undefined || 'na' in large) return { load: { na: large?.na ?? 'not measured' } };
  const gone = exitReason(server);
  if (gone) return { load: { na: gone } };
  await allIdle(live, plan);
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
