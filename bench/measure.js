// What is measured: for each server in turn, start-up time over several starts; then the five
// loads in rounds, each round a fresh start of every server in turn; last, for each server,
// its memory under 50 large downloads.
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
 * @property {{ afterStartBytes: number, peakBytes: number, fiftyClientsLargeBytes?: number, fiftyClientsLargeRounds?: number[] }} rss
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
 * @property {boolean} [byBytes]  judged by its transfer rate rather than its requests per second
 */

/** @type {LoadSpec[]} */
export const LOADS = [
  { key: 'small', title: '1 KiB file', connections: 50, path: (c) => c.files.small.path, probe: (port, c) => probeFile(port, c.files.small) },
  { key: 'medium', title: '135 KiB file', connections: 50, path: (c) => c.files.medium.path, probe: (port, c) => probeFile(port, c.files.medium) },
  { key: 'large', title: '100 MiB file', connections: 4, path: (c) => c.files.large.path, probe: (port, c) => probeFile(port, c.files.large), byBytes: true },
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
 * @typedef {object} Contender  a server being measured, and what is known of it so far
 * @property {string} name
 * @property {import('./servers.js').Prepared} prepared
 * @property {string} logPath
 * @property {{ samplesMs: number[], medianMs: number }} startup
 * @property {number} [afterStartBytes]
 * @property {number} peakBytes
 * @property {Record<string, LoadFigure>} load         a load's n/a, once known
 * @property {Record<string, Measured[]>} rounds       each load's runs so far
 * @property {string} [failed]                         why it could not be measured at all
 */

/**
 * Times several starts of a server (each a fresh process).
 * @param {string} name
 * @param {import('./servers.js').Prepared} prepared
 * @param {Plan} plan
 * @returns {Promise<Contender>}
 */
export async function timeStarts(name, prepared, plan) {
  const logPath = join(plan.logDir, `${name}.log`);
  const startup = await measureStartup(prepared, plan, logPath);
  plan.log(`${name}: start to first response ${startup.medianMs.toFixed(1)} ms (median of ${startup.samplesMs.length})`);
  return { name, prepared, logPath, startup, peakBytes: 0, load: {}, rounds: {} };
}

/**
 * The five loads, in rounds: a round starts each server afresh, warms it up and runs every
 * load on it once, then stops it; each round takes the servers in a different order. A
 * server's figure is its median round. The speed this shared machine gives drifts over
 * minutes; interleaved, every server meets the same drift, and one slow round moves no median.
 * Each server is measured just after its start and warm-up, as in the peer-bench:
 * some (sirv-cli, measured here) answer a third as fast once they have sat idle for minutes.
 * @param {Contender[]} contenders
 * @param {Plan} plan
 */
export async function measureLoads(contenders, plan) {
  for (let round = 0; round < plan.rounds; round++) {
    const order = [...contenders.slice(round % contenders.length), ...contenders.slice(0, round % contenders.length)];
    for (const contender of order) {
      if (contender.failed) continue;
      plan.log(`${contender.name}: round ${round + 1} of ${plan.rounds}`);
      await oneRound(contender, plan).catch((error) => {
        plan.signal.throwIfAborted();
        contender.failed = /** @type {Error} */ (error).message;
        plan.log(`${contender.name}: ${contender.failed}`);
      });
    }
  }
  for (const contender of contenders) {
    for (const spec of LOADS) {
      const measured = contender.rounds[spec.key];
      if (contender.load[spec.key] === undefined && measured && measured.length > 0) {
        contender.load[spec.key] = medianRun(spec, measured);
      }
      const figure = contender.load[spec.key];
      if (figure) plan.log(`${contender.name}: ${spec.title}: ${describe(figure)}`);
    }
  }
}

/**
 * One round on one server: a fresh start, its memory at rest (first round), a warm-up, then
 * each load once, unless it is n/a for this server.
 * @param {Contender} contender
 * @param {Plan} plan
 */
async function oneRound(contender, plan) {
  const server = await startServer(contender.prepared, { firstPort: plan.firstPort, logPath: contender.logPath, signal: plan.signal });
  try {
    if (contender.afterStartBytes === undefined) {
      await delay(RSS_SETTLE_MS, undefined, { signal: plan.signal });
      contender.afterStartBytes = residentBytes(processTree(server.pid));
    }
    await warmUp(server.port, plan);
    for (const spec of LOADS) {
      if (contender.load[spec.key] !== undefined) continue; // n/a
      const figure = await measureLoad(server, spec, plan);
      if ('na' in figure) contender.load[spec.key] = figure;
      else (contender.rounds[spec.key] ??= []).push(figure);
      notePeak(contender, server);
    }
  } finally {
    await stopServer(server);
  }
}

/**
 * The memory under 50 large downloads, each round in a start of its own, and the peak over the
 * whole run. The figure is the median round: a server's largest resident size under this load
 * moves by a quarter from one start to the next (when the allocator's and V8's pools grow), so one
 * start would decide comparisons by chance.
 * @param {Contender} contender
 * @param {Plan} plan
 * @returns {Promise<Measurements>}
 */
export async function finish(contender, plan) {
  /** @type {{ load: LoadFigure, residentBytes?: number }[]} */
  const runs = [];
  for (let round = 0; round < plan.rounds; round++) {
    const server = await startServer(contender.prepared, { firstPort: plan.firstPort, logPath: contender.logPath, signal: plan.signal });
    try {
      const fifty = await measureFiftyClientsOnLarge(server, contender.load.large, plan);
      notePeak(contender, server);
      runs.push(fifty);
      if ('na' in fifty.load) break;
    } finally {
      await stopServer(server);
    }
  }
  const measured = runs.filter((run) => run.residentBytes !== undefined).sort((a, b) => (a.residentBytes ?? 0) - (b.residentBytes ?? 0));
  const fifty = measured[Math.floor((measured.length - 1) / 2)] ?? /** @type {{ load: LoadFigure, residentBytes?: number }} */ (runs[0]);
  const problems = runs.flatMap((run) => ('problems' in run.load && run.load.problems ? [run.load.problems] : []));
  contender.load.fiftyClientsLarge = 'na' in fifty.load ? fifty.load : { ...fifty.load, ...(problems.length > 0 && { problems: problems.join('; ') }) };
  const fiftyRounds = runs.flatMap((run) => (run.residentBytes === undefined ? [] : [run.residentBytes]));
  return {
    startup: contender.startup,
    rss: {
      afterStartBytes: contender.afterStartBytes ?? 0,
      peakBytes: contender.peakBytes,
      fiftyClientsLargeBytes: fifty.residentBytes,
      ...(fiftyRounds.length > 1 && { fiftyClientsLargeRounds: fiftyRounds }),
    },
    load: contender.load,
  };
}

/**
 * The high-water mark is read after every run, as it is lost when the server stops or dies.
 * @param {Contender} contender
 * @param {import('./lifecycle.js').RunningServer} server
 */
function notePeak(contender, server) {
  if (!exitReason(server)) contender.peakBytes = Math.max(contender.peakBytes, peakResidentBytes(processTree(server.pid)));
}

/**
 * The run of the median rate among the rounds (transfer for the large file, requests
 * otherwise), with every round's rate beside it and any round's problems flagged.
 * @param {LoadSpec} spec
 * @param {Measured[]} measured
 * @returns {Measured}
 */
function medianRun(spec, measured) {
  const rate = (/** @type {Measured} */ run) => (spec.byBytes ? run.bytesPerSec : run.rps);
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
export async function warmUp(port, plan) {
  for (const path of [plan.corpus.files.small.path, plan.corpus.files.medium.path]) {
    await plan.generator.run({ port, path, connections: FIFTY_CLIENTS, seconds: WARM_UP_S, signal: plan.signal });
  }
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
 * @param {LoadFigure | undefined} large  the large-file figure, n/a when the server cannot serve it
 * @param {Plan} plan
 * @returns {Promise<{ load: LoadFigure, residentBytes?: number }>}
 */
async function measureFiftyClientsOnLarge(server, large, plan) {
  if (large === undefined || 'na' in large) return { load: { na: large?.na ?? 'not measured' } };
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
