// Paired runs: the figures serve-dir is compared with itself on. A 304 against the 1 KiB file,
// and serve-dir --watch against serve-dir, differ by a few per cent; this shared machine's speed
// moves by more than that between two loads of a round, and even between two adjacent seconds.
// So each comparison is made in a way that gives both sides the same noise:
// - the 304 and the 1 KiB file alternate on serve-dir in one-second slices, in mirrored order
//   (A B B A …), each side's figure the sum over its slices;
// - serve-dir and serve-dir --watch run side by side on the server CPU and are loaded at the
//   same time, each by its own wrk: the scheduler gives each half the CPU, so whichever does
//   more work per request answers fewer, and whatever slows the machine slows both at once.
import { loadProblems } from './load.js';
import { formatNumber } from './figures.js';
import { exitReason, startServer, stopServer } from './lifecycle.js';
import { LOADS, warmUp } from './measure.js';
import { processTree, waitUntilIdle } from './proc.js';

const SLICE_S = 1;
const TOGETHER_S = 3;
/** Before each run: leftover work (a listing for a client that hung up) is not charged on. */
const IDLE_WAIT_MS = 2_000;

/**
 * @typedef {import('./measure.js').LoadSpec} LoadSpec
 *
 * @typedef {object} SideFigure  one side's runs of one load, summed (the shape of one run's result)
 * @property {number} requests
 * @property {number} bytes
 * @property {number} seconds
 * @property {number} rps
 * @property {number} bytesPerSec
 * @property {number[]} runs     each run's rate (req/s; B/s for the large file)
 * @property {string} [problems]
 *
 * @typedef {object} PairedResult
 * @property {number} cycles
 * @property {{ sliceSeconds: number, small: SideFigure, revalidate: SideFigure }} [revalidation]
 *   serve-dir alone, the two URLs in alternating slices
 * @property {{ runSeconds: number, loads: Record<string, { plain: SideFigure, watching: SideFigure }> }} [watch]
 *   serve-dir and serve-dir-watch loaded at the same time, per load
 * @property {string} [failed]
 */

const SMALL = /** @type {LoadSpec} */ (LOADS.find((spec) => spec.key === 'small'));
const REVALIDATE = /** @type {LoadSpec} */ (LOADS.find((spec) => spec.key === 'revalidate'));

/**
 * @typedef {{ name: string, server: import('./lifecycle.js').RunningServer }} Running
 * @typedef {import('./measure.js').Plan & { cycles: number }} PairedPlan
 */

/**
 * Starts serve-dir (and serve-dir-watch, when given) side by side, warms them up, and runs both
 * comparisons.
 * @param {import('./measure.js').Contender} plain
 * @param {import('./measure.js').Contender | undefined} watching
 * @param {PairedPlan} plan
 * @returns {Promise<PairedResult>}
 */
export async function measurePaired(plain, watching, plan) {
  /** @type {PairedResult} */
  const result = { cycles: plan.cycles };
  /** @type {Running[]} */
  const running = [];
  try {
    for (const contender of watching ? [plain, watching] : [plain]) {
      const server = await startServer(contender.prepared, { firstPort: plan.firstPort, logPath: contender.logPath, signal: plan.signal });
      running.push({ name: contender.name, server });
    }
    for (const { server } of running) await warmUp(server.port, plan);
    const [first, second] = running;
    result.revalidation = await revalidationSlices(/** @type {Running} */ (first), plan);
    if (second) result.watch = await sideBySide(/** @type {Running} */ (first), second, plan);
  } catch (error) {
    plan.signal.throwIfAborted();
    result.failed = /** @type {Error} */ (error).message;
    plan.log(`paired runs: ${result.failed}`);
  } finally {
    for (const { server } of running) await stopServer(server);
  }
  return result;
}

/**
 * The 1 KiB file and its 304 on one server, alternating slice by slice.
 * @param {Running} subject
 * @param {PairedPlan} plan
 */
async function revalidationSlices({ name, server }, plan) {
  const cells = [];
  for (const load of [SMALL, REVALIDATE]) cells.push({ load, headers: await probed(load, name, server, plan) });
  const [small, revalidate] = [empty(), empty()];
  for (let cycle = 0; cycle < plan.cycles; cycle++) {
    for (const { load, headers } of cycle % 2 === 0 ? cells : [...cells].reverse()) {
      const run = await oneRun(load, server, headers, SLICE_S, plan);
      add(load === SMALL ? small : revalidate, run, load);
    }
  }
  plan.log(`paired: ${name} 1 KiB ${shownRate(small, SMALL)}, 304 ${shownRate(revalidate, REVALIDATE)}`);
  return { sliceSeconds: SLICE_S, small, revalidate };
}

/**
 * Each load on both servers at the same time, `cycles` runs of TOGETHER_S seconds.
 * @param {Running} plain
 * @param {Running} watching
 * @param {PairedPlan} plan
 */
async function sideBySide(plain, watching, plan) {
  /** @type {Record<string, { plain: SideFigure, watching: SideFigure }>} */
  const loads = {};
  for (const load of LOADS) {
    const [plainHeaders, watchingHeaders] = [await probed(load, plain.name, plain.server, plan), await probed(load, watching.name, watching.server, plan)];
    const figures = { plain: empty(), watching: empty() };
    for (let cycle = 0; cycle < plan.cycles; cycle++) {
      const [a, b] = await Promise.all([
        oneRun(load, plain.server, plainHeaders, TOGETHER_S, plan),
        oneRun(load, watching.server, watchingHeaders, TOGETHER_S, plan),
      ]);
      add(figures.plain, a, load);
      add(figures.watching, b, load);
    }
    loads[load.key] = figures;
    plan.log(`paired: ${load.title} at once: ${plain.name} ${shownRate(figures.plain, load)}, ${watching.name} ${shownRate(figures.watching, load)}`);
  }
  return { runSeconds: TOGETHER_S, loads };
}

/**
 * The request headers the load needs on this server, once it answers the load correctly.
 * @param {LoadSpec} load
 * @param {string} name
 * @param {import('./lifecycle.js').RunningServer} server
 * @param {PairedPlan} plan
 */
async function probed(load, name, server, plan) {
  const probe = await load.probe(server.port, plan.corpus);
  if (!probe.ok) throw new Error(`${name} does not answer the ${load.key} load as it should: ${probe.reason}`);
  return probe.headers;
}

/**
 * @param {LoadSpec} load
 * @param {import('./lifecycle.js').RunningServer} server
 * @param {Record<string, string>} headers
 * @param {number} seconds
 * @param {PairedPlan} plan
 */
async function oneRun(load, server, headers, seconds, plan) {
  const gone = exitReason(server);
  if (gone) throw new Error(gone);
  await waitUntilIdle(processTree(server.pid), { maxMs: IDLE_WAIT_MS, signal: plan.signal });
  return plan.generator.run({ port: server.port, path: load.path(plan.corpus), connections: load.connections, seconds, headers, signal: plan.signal });
}

/** @returns {SideFigure} */
function empty() {
  return { requests: 0, bytes: 0, seconds: 0, rps: 0, bytesPerSec: 0, runs: [] };
}

/**
 * @param {SideFigure} side
 * @param {import('./load.js').LoadResult} run
 * @param {LoadSpec} load
 */
function add(side, run, load) {
  side.requests += run.requests;
  side.bytes += run.bytes;
  side.seconds += run.seconds;
  side.rps = side.requests / side.seconds;
  side.bytesPerSec = side.bytes / side.seconds;
  side.runs.push(load.byBytes ? run.bytesPerSec : run.rps);
  const problems = loadProblems(run);
  if (problems) side.problems = side.problems ? `${side.problems}; ${problems}` : problems;
}

/**
 * The paired figures as markdown.
 * @param {PairedResult} paired
 * @returns {string}
 */
export function renderPaired(paired) {
  const lines = [];
  const { revalidation, watch } = paired;
  if (revalidation) {
    const { small, revalidate } = revalidation;
    lines.push(
      `serve-dir alone, the 1 KiB file and its 304 in ${paired.cycles} cycles of ${revalidation.sliceSeconds} s slices, alternating in mirrored order (A B B A …): ` +
        `304 ${shownRate(revalidate, REVALIDATE)}, 1 KiB ${shownRate(small, SMALL)}, ratio ${(revalidate.rps / small.rps).toFixed(2)}×.`,
      '',
    );
  }
  if (watch) {
    lines.push(
      `serve-dir and serve-dir-watch on the same CPU, loaded at the same time (${paired.cycles} runs of ${watch.runSeconds} s per load, each server with its own wrk): each gets about half the CPU, so the ratio is that of their costs per request.`,
      '',
      '| load | serve-dir | serve-dir-watch | watch ÷ plain |',
      '| --- | ---: | ---: | ---: |',
    );
    for (const load of LOADS) {
      const sides = watch.loads[load.key];
      if (!sides) continue;
      const cell = (/** @type {SideFigure} */ side) => `${formatNumber(rateOf(side, load))}${side.problems ? ' ⚠' : ''}`;
      const ratio = rateOf(sides.plain, load) > 0 ? `${(rateOf(sides.watching, load) / rateOf(sides.plain, load)).toFixed(2)}×` : 'n/a';
      lines.push(`| ${load.title}, ${load.byBytes ? 'MB/s' : 'req/s'} | ${cell(sides.plain)} | ${cell(sides.watching)} | ${ratio} |`);
    }
    lines.push('');
  }
  const problems = [];
  if (revalidation?.small.problems) problems.push(`- ⚠ 1 KiB slices: ${revalidation.small.problems}`);
  if (revalidation?.revalidate.problems) problems.push(`- ⚠ 304 slices: ${revalidation.revalidate.problems}`);
  for (const [key, sides] of Object.entries(watch?.loads ?? {})) {
    for (const [side, figure] of Object.entries(sides)) if (figure.problems) problems.push(`- ⚠ ${key}, ${side}: ${figure.problems}`);
  }
  if (paired.failed) problems.push(`- the paired runs stopped early: ${paired.failed}`);
  return [...lines, ...problems].join('\n').trimEnd();
}

/**
 * req/s, or MB/s for a load judged by its transfer rate.
 * @param {SideFigure} side
 * @param {LoadSpec} load
 */
const rateOf = (side, load) => (load.byBytes ? side.bytesPerSec / 1e6 : side.rps);

/**
 * @param {SideFigure} side
 * @param {LoadSpec} load
 */
const shownRate = (side, load) => `${formatNumber(rateOf(side, load))} ${load.byBytes ? 'MB/s' : 'req/s'}`;
