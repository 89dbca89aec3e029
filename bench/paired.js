// Paired runs: the figures serve-dir is compared with itself on. A 304 against the 1 KiB file,
// and serve-dir --watch against serve-dir, differ by a few per cent; this shared machine's speed
// drifts by more than that over the half minute between two loads of a round. So both sides of
// each comparison run in alternating one-second slices, in mirrored order (A B B A …), and each
// side's figure is the sum over its slices: drift meets both sides alike and cancels out.
import { loadProblems } from './load.js';
import { exitReason, startServer, stopServer } from './lifecycle.js';
import { warmUp } from './measure.js';
import { processTree, waitUntilIdle } from './proc.js';
import { LISTING_PATH, probeFile, probeListing, probeRevalidation } from './probes.js';

const SLICE_S = 1;
/** After each slice, before the next: leftover work (a listing for a client that hung up) is not charged on. */
const IDLE_WAIT_MS = 2_000;

/**
 * @typedef {object} PairedLoad
 * @property {string} key      as in measure.js's LOADS
 * @property {number} connections
 * @property {(corpus: import('./corpus.js').Corpus) => string} path
 * @property {(port: number, corpus: import('./corpus.js').Corpus) => Promise<import('./probes.js').Probe>} probe
 *
 * @typedef {object} SideFigure  one side's slices of one load, summed
 * @property {number} requests
 * @property {number} bytes
 * @property {number} seconds
 * @property {number} rps
 * @property {number} bytesPerSec
 * @property {number[]} slices    each slice's rate (req/s; B/s for the large file)
 * @property {string} [problems]
 *
 * @typedef {object} PairedResult
 * @property {number} cycles
 * @property {number} sliceSeconds
 * @property {string[]} sides                                   server names, in the order of the first cycle
 * @property {Record<string, Record<string, SideFigure>>} loads  load key → server name → figure
 * @property {string} [failed]
 */

/** @type {PairedLoad} */
const SMALL = { key: 'small', connections: 50, path: (c) => c.files.small.path, probe: (port, c) => probeFile(port, c.files.small) };
/** @type {PairedLoad} */
const REVALIDATE = { key: 'revalidate', connections: 50, path: (c) => c.files.small.path, probe: (port, c) => probeRevalidation(port, c.files.small.path) };

/**
 * Loads that alternate with each other: the 304 and the 1 KiB file share a group, so they are
 * compared slice against slice on each server.
 * @type {PairedLoad[][]}
 */
const GROUPS = [
  [SMALL, REVALIDATE],
  [{ key: 'medium', connections: 50, path: (c) => c.files.medium.path, probe: (port, c) => probeFile(port, c.files.medium) }],
  [{ key: 'large', connections: 4, path: (c) => c.files.large.path, probe: (port, c) => probeFile(port, c.files.large) }],
  [{ key: 'listing', connections: 4, path: () => LISTING_PATH, probe: (port) => probeListing(port) }],
];

/**
 * Starts the servers side by side (both pinned to the server CPU; only one is under load at a
 * time), warms them up, then runs each group's slices.
 * @param {import('./measure.js').Contender[]} contenders  serve-dir, and serve-dir-watch when measured
 * @param {import('./measure.js').Plan & { cycles: number }} plan
 * @returns {Promise<PairedResult>}
 */
export async function measurePaired(contenders, plan) {
  /** @type {PairedResult} */
  const result = { cycles: plan.cycles, sliceSeconds: SLICE_S, sides: contenders.map((c) => c.name), loads: {} };
  /** @type {{ name: string, server: import('./lifecycle.js').RunningServer }[]} */
  const running = [];
  try {
    for (const contender of contenders) {
      const server = await startServer(contender.prepared, { firstPort: plan.firstPort, logPath: contender.logPath, signal: plan.signal });
      running.push({ name: contender.name, server });
    }
    for (const { server } of running) await warmUp(server.port, plan);
    for (const group of GROUPS) await runGroup(group, running, plan, result);
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
 * Every (server, load) cell of the group once per cycle, the order reversed every other cycle.
 * @param {PairedLoad[]} group
 * @param {{ name: string, server: import('./lifecycle.js').RunningServer }[]} running
 * @param {import('./measure.js').Plan & { cycles: number }} plan
 * @param {PairedResult} result
 */
async function runGroup(group, running, plan, result) {
  const cells = [];
  for (const { name, server } of running) {
    for (const load of group) {
      const probe = await load.probe(server.port, plan.corpus);
      if (!probe.ok) throw new Error(`${name} does not answer the ${load.key} load as it should: ${probe.reason}`);
      cells.push({ name, server, load, headers: probe.headers });
    }
  }
  for (let cycle = 0; cycle < plan.cycles; cycle++) {
    for (const cell of cycle % 2 === 0 ? cells : [...cells].reverse()) {
      const gone = exitReason(cell.server);
      if (gone) throw new Error(`${cell.name}: ${gone}`);
      await waitUntilIdle(processTree(cell.server.pid), { maxMs: IDLE_WAIT_MS, signal: plan.signal });
      const run = await plan.generator.run({
        port: cell.server.port,
        path: cell.load.path(plan.corpus),
        connections: cell.load.connections,
        seconds: SLICE_S,
        headers: cell.headers,
        signal: plan.signal,
      });
      add(((result.loads[cell.load.key] ??= {})[cell.name] ??= empty()), run, cell.load.key === 'large');
    }
  }
  for (const load of group) {
    const sides = result.loads[load.key] ?? {};
    plan.log(`paired ${load.key}: ${Object.entries(sides).map(([name, side]) => `${name} ${Math.round(side.rps)} req/s, ${(side.bytesPerSec / 1e6).toFixed(1)} MB/s`).join('; ')}`);
  }
}

/** @returns {SideFigure} */
function empty() {
  return { requests: 0, bytes: 0, seconds: 0, rps: 0, bytesPerSec: 0, slices: [] };
}

/**
 * @param {SideFigure} side
 * @param {import('./load.js').LoadResult} run
 * @param {boolean} byBytes
 */
function add(side, run, byBytes) {
  side.requests += run.requests;
  side.bytes += run.bytes;
  side.seconds += run.seconds;
  side.rps = side.requests / side.seconds;
  side.bytesPerSec = side.bytes / side.seconds;
  side.slices.push(byBytes ? run.bytesPerSec : run.rps);
  const problems = loadProblems(run);
  if (problems) side.problems = side.problems ? `${side.problems}; ${problems}` : problems;
}

/**
 * The paired figures as markdown: per load, each side's summed rate and, with two sides, their ratio.
 * @param {PairedResult} paired
 * @returns {string}
 */
export function renderPaired(paired) {
  const titles = { small: '1 KiB req/s', revalidate: '304 req/s', medium: '135 KiB req/s', large: '100 MiB MB/s', listing: '10k listing req/s' };
  const [first, second] = paired.sides;
  const lines = [
    `| load | ${paired.sides.join(' | ')}${second ? ` | ${second} ÷ ${first}` : ''} |`,
    `| --- | ${paired.sides.map(() => '---:').join(' | ')}${second ? ' | ---:' : ''} |`,
  ];
  for (const [key, sides] of Object.entries(paired.loads)) {
    const rate = (/** @type {SideFigure | undefined} */ side) => (side === undefined ? undefined : key === 'large' ? side.bytesPerSec / 1e6 : side.rps);
    const cells = paired.sides.map((name) => {
      const value = rate(sides[name]);
      return value === undefined ? 'n/a' : `${Math.round(value).toLocaleString('en-US')}${sides[name]?.problems ? ' ⚠' : ''}`;
    });
    const [a, b] = [rate(first ? sides[first] : undefined), rate(second ? sides[second] : undefined)];
    const ratio = second ? [a && b ? `${(b / a).toFixed(2)}×` : 'n/a'] : [];
    lines.push(`| ${titles[/** @type {keyof typeof titles} */ (key)] ?? key} | ${[...cells, ...ratio].join(' | ')} |`);
  }
  const problems = Object.entries(paired.loads).flatMap(([key, sides]) =>
    Object.entries(sides).flatMap(([name, side]) => (side.problems ? [`- ⚠ ${name}, ${key}: ${side.problems}`] : [])),
  );
  if (paired.failed) problems.push(`- the paired runs stopped early: ${paired.failed}`);
  return [...lines, ...(problems.length > 0 ? ['', ...problems] : [])].join('\n');
}

