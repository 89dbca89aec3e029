// The figures reported for each server: the table's columns, and what the targets compare.
// MB is 10^6 bytes throughout (so 60 MB is a little less than 60 MiB: the stricter reading).

/**
 * @typedef {import('./measure.js').Measurements} Measurements
 *
 * @typedef {object} ServerResult
 * @property {string} name
 * @property {'reference' | 'serve-dir' | 'peer'} role
 * @property {string} [version]
 * @property {string[]} [command]          how it was started (for the first port tried)
 * @property {'measured' | 'unavailable' | 'failed' | 'skipped'} outcome
 * @property {string} [reason]             why it was not measured
 * @property {Measurements} [measurements]  when measured
 *
 * @typedef {object} Figure
 * @property {string} key
 * @property {string} title               the column header
 * @property {'higher' | 'lower'} better
 * @property {string} unit
 * @property {string} [load]              the load run it comes from, whose problems flag it
 * @property {(run: { rps: number, bytesPerSec: number, p99Ms?: number }) => number} [of]  the figure of one such run
 * @property {(m: Measurements) => number | undefined} value  undefined: n/a
 */

/**
 * A figure taken from one load run; n/a when that run was.
 * @param {string} key
 * @param {string} title
 * @param {string} load
 * @param {'higher' | 'lower'} better
 * @param {string} unit
 * @param {(run: import('./load.js').LoadResult) => number} of
 * @returns {Figure}
 */
function fromLoad(key, title, load, better, unit, of) {
  return {
    key,
    title,
    better,
    unit,
    load,
    of: /** @type {Figure['of']} */ (of),
    value(m) {
      const run = m.load[load];
      return run === undefined || 'na' in run ? undefined : of(run);
    },
  };
}

/** @param {import('./load.js').LoadResult} run */
const rps = (run) => run.rps;
/** @param {import('./load.js').LoadResult} run */
const p99 = (run) => run.p99Ms;
/** @param {import('./load.js').LoadResult} run */
const megabytesPerSec = (run) => run.bytesPerSec / 1e6;
/** @param {number | undefined} bytes */
const megabytes = (bytes) => (bytes === undefined ? undefined : bytes / 1e6);

/** @type {Figure[]} */
export const FIGURES = [
  fromLoad('smallRps', '1 KiB req/s', 'small', 'higher', 'req/s', rps),
  fromLoad('smallP99', '1 KiB p99 ms', 'small', 'lower', 'ms', p99),
  fromLoad('mediumRps', '135 KiB req/s', 'medium', 'higher', 'req/s', rps),
  fromLoad('mediumP99', '135 KiB p99 ms', 'medium', 'lower', 'ms', p99),
  fromLoad('largeRate', '100 MiB MB/s', 'large', 'higher', 'MB/s', megabytesPerSec),
  fromLoad('listingRps', '10k listing req/s', 'listing', 'higher', 'req/s', rps),
  fromLoad('revalidateRps', '304 req/s', 'revalidate', 'higher', 'req/s', rps),
  { key: 'startMs', title: 'start ms', better: 'lower', unit: 'ms', value: (m) => m.startup.medianMs },
  { key: 'rssStart', title: 'RSS start MB', better: 'lower', unit: 'MB', value: (m) => megabytes(m.rss.afterStartBytes) },
  { key: 'rssPeak', title: 'RSS peak MB', better: 'lower', unit: 'MB', value: (m) => megabytes(m.rss.peakBytes) },
  { key: 'rssFifty', title: 'RSS 50×100 MiB MB', better: 'lower', unit: 'MB', value: (m) => megabytes(m.rss.fiftyClientsLargeBytes) },
];

/**
 * @param {ServerResult[]} results
 * @param {string} name
 */
export function measurementsOf(results, name) {
  return results.find((result) => result.name === name)?.measurements;
}

/** @param {string} key */
export function figure(key) {
  const found = FIGURES.find((f) => f.key === key);
  if (!found) throw new Error(`no figure ${key}`);
  return found;
}

/**
 * What is wrong with the load run a figure comes from, if anything.
 * @param {Figure} figure
 * @param {Measurements} m
 */
export function figureProblems(figure, m) {
  const run = figure.load === undefined ? undefined : m.load[figure.load];
  return run !== undefined && !('na' in run) ? run.problems : undefined;
}

/**
 * Three significant digits or more, with thousands grouped: 41,230 · 812 · 45.2 · 2.31.
 * @param {number} value
 */
export function formatNumber(value) {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
