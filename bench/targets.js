// The performance targets serve-dir set itself, each checked against figures of the same run.
import { FIGURES, figure, figureProblems, formatNumber, measurementsOf } from './figures.js';

/**
 * @typedef {import('./figures.js').ServerResult} ServerResult
 * @typedef {{ text: string, met: boolean | undefined, detail: string }} Verdict  met undefined: not measured
 *
 * @typedef {object} Target
 * @property {string} text
 * @property {string} figure        serve-dir's figure under test
 * @property {{ server: string, figure: string, factor: number } | { limit: number }} bound
 *   server's figure × factor, or a fixed limit (strict); "at least" or "at most" by whether higher is better
 */

/**
 * Compared from the paired slices when there are any: the two differ by less than this machine
 * drifts between two loads of a round. Else from the rounds.
 */
const REVALIDATION = { text: '304 revalidation ≥ the 1 KiB file rate', figure: 'revalidateRps', bound: { server: 'serve-dir', figure: 'smallRps', factor: 1 } };

/** @type {Target[]} */
const TARGETS = [
  { text: '1 KiB file ≥ 2× sirv-cli', figure: 'smallRps', bound: { server: 'sirv-cli', figure: 'smallRps', factor: 2 } },
  { text: '1 KiB file ≥ 0.4× nginx', figure: 'smallRps', bound: { server: 'nginx', figure: 'smallRps', factor: 0.4 } },
  { text: '135 KiB file ≥ 2.5× sirv-cli', figure: 'mediumRps', bound: { server: 'sirv-cli', figure: 'mediumRps', factor: 2.5 } },
  { text: '135 KiB file ≥ 0.55× nginx', figure: 'mediumRps', bound: { server: 'nginx', figure: 'mediumRps', factor: 0.55 } },
  { text: '100 MiB file ≥ nginx transfer rate', figure: 'largeRate', bound: { server: 'nginx', figure: 'largeRate', factor: 1 } },
  { text: '10,000-entry listing ≥ 1.5× nginx autoindex', figure: 'listingRps', bound: { server: 'nginx', figure: 'listingRps', factor: 1.5 } },
  REVALIDATION,
  { text: 'start to first response ≤ 1.25× bare node:http', figure: 'startMs', bound: { server: 'node-http', figure: 'startMs', factor: 1.25 } },
  { text: 'RSS after start < 60 MB', figure: 'rssStart', bound: { limit: 60 } },
  { text: 'RSS with 50 clients on the 100 MiB file < 150 MB', figure: 'rssFifty', bound: { limit: 150 } },
];

const SUBJECT = 'serve-dir';
const WATCH_VARIANT = 'serve-dir-watch';
/** How much worse than serve-dir any figure of serve-dir --watch may be. */
const WATCH_TOLERANCE = 0.1;

/**
 * @param {ServerResult[]} results
 * @param {import('./paired.js').PairedResult | undefined} paired  serve-dir against itself, in alternating slices
 * @returns {Verdict[]}
 */
export function evaluateTargets(results, paired) {
  const verdicts = TARGETS.map((target) => (target === REVALIDATION ? evaluateRevalidation(results, paired) : evaluate(target, results)));
  return [...verdicts, evaluateWatch(results, paired)];
}

/**
 * @param {ServerResult[]} results
 * @param {import('./paired.js').PairedResult | undefined} paired
 * @returns {Verdict}
 */
function evaluateRevalidation(results, paired) {
  const { text } = REVALIDATION;
  if (!paired?.revalidation) return evaluate(REVALIDATION, results);
  const { revalidate, small } = paired.revalidation;
  const shown = `${formatNumber(revalidate.rps)} req/s = ${(revalidate.rps / small.rps).toFixed(2)}× the 1 KiB file's ${formatNumber(small.rps)} (paired slices)`;
  const problems = revalidate.problems ?? small.problems;
  if (problems) return { text, met: false, detail: `${shown}, but ${problems}` };
  return { text, met: revalidate.rps >= small.rps, detail: shown };
}

/**
 * @param {Target} target
 * @param {ServerResult[]} results
 * @returns {Verdict}
 */
function evaluate({ text, figure: key, bound }, results) {
  const measured = figure(key);
  const subject = measurementsOf(results, SUBJECT);
  const value = subject && measured.value(subject);
  if (!subject || value === undefined) return { text, met: undefined, detail: `${SUBJECT} ${subject ? 'n/a' : 'not measured'}` };
  const shown = `${formatNumber(value)} ${measured.unit}`;
  const problems = figureProblems(measured, subject);
  if (problems) return { text, met: false, detail: `${shown}, but ${problems}` };
  if ('limit' in bound) return { text, met: value < bound.limit, detail: shown };

  const reference = measurementsOf(results, bound.server);
  const referenceValue = reference && figure(bound.figure).value(reference);
  if (!reference || referenceValue === undefined) return { text, met: undefined, detail: `${shown}; ${bound.server} ${reference ? 'n/a' : 'not measured'}` };
  const met = measured.better === 'higher' ? value >= bound.factor * referenceValue : value <= bound.factor * referenceValue;
  return { text, met, detail: `${shown} = ${(value / referenceValue).toFixed(2)}× ${bound.server}'s ${formatNumber(referenceValue)}` };
}

/** The figures the targets are about, which --watch must not make worse (p99 and peak RSS are not targets). */
const WATCHED_FIGURES = ['smallRps', 'mediumRps', 'largeRate', 'listingRps', 'revalidateRps', 'startMs', 'rssStart', 'rssFifty'];
/**
 * Watching must cost next to nothing: each target's figure for serve-dir --watch within 10% of
 * serve-dir's. Load figures come from the paired runs (both loaded at once) when there are any, else
 * from the rounds.
 * @param {ServerResult[]} results
 * @param {import('./paired.js').PairedResult | undefined} paired
 * @returns {Verdict}
 */
function evaluateWatch(results, paired) {
  const text = `with --watch, no target's figure worse by more than ${WATCH_TOLERANCE * 100}%`;
  const plain = measurementsOf(results, SUBJECT);
  const watching = measurementsOf(results, WATCH_VARIANT);
  if (!plain || !watching) return { text, met: undefined, detail: `${plain ? WATCH_VARIANT : SUBJECT} not measured` };
  const worse = [];
  const changes = [];
  for (const key of WATCHED_FIGURES) {
    const f = figure(key);
    const sides = f.load === undefined ? undefined : paired?.watch?.loads[f.load];
    let before;
    let after;
    if (f.of && sides) {
      // A paired side sums its runs into the shape of one run, so the figure reads it as one.
      [before, after] = [f.of(sides.plain), f.of(sides.watching)];
      if (sides.watching.problems) worse.push(`${f.title}: ${sides.watching.problems}`);
    } else {
      [before, after] = [f.value(plain), f.value(watching)];
      const problems = figureProblems(f, watching);
      if (problems) worse.push(`${f.title}: ${problems}`);
    }
    if (before === undefined || after === undefined || before === 0) continue;
    const change = f.better === 'higher' ? (before - after) / before : (after - before) / before;
    changes.push(`${f.title} ${change > 0 ? '−' : '+'}${Math.abs(Math.round(change * 100))}%`);
    if (change > WATCH_TOLERANCE) worse.push(`${f.title} ${Math.round(change * 100)}% worse`);
  }
  return { text, met: worse.length === 0, detail: worse.length === 0 ? `all within (${changes.join(', ')}; − is worse)` : worse.join(', ') };
}

/**
 * @param {Verdict[]} verdicts
 * @returns {string}
 */
export function renderTargets(verdicts) {
  const mark = (/** @type {boolean | undefined} */ met) => (met === undefined ? '?' : met ? '✓' : '✗');
  return verdicts.map(({ text, met, detail }) => `- ${mark(met)} ${text}: ${detail}`).join('\n');
}
