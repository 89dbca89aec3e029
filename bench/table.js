// The results as markdown, ready to paste into the README: one table with every figure and the
// ratio of serve-dir to each other row, then what could not be taken at face value.
import { FIGURES, figureProblems, formatNumber, measurementsOf } from './figures.js';
import { loadTitle } from './measure.js';

/** The row the others are compared with. */
const BASELINE = 'serve-dir';

/**
 * @param {import('./figures.js').ServerResult[]} results
 * @returns {string}
 */
export function renderTable(results) {
  const measured = results.filter((result) => result.measurements);
  const baseline = measurementsOf(results, BASELINE);
  const lines = [
    row(['server', ...FIGURES.map((f) => f.title)]),
    row(['---', ...FIGURES.map(() => '---:')]),
    ...measured.map((result) => row([label(result), ...FIGURES.map((f) => cell(f, result, baseline))])),
    '',
    baseline
      ? `(×r) = ${BASELINE} ÷ that row: above 1 is ${BASELINE} ahead for req/s and MB/s, below 1 is ${BASELINE} ahead for ms and MB of memory. ⚠ = see notes.`
      : `${BASELINE} was not measured, so there are no ratios. ⚠ = see notes.`,
    ...notes(measured),
    ...notMeasured(results),
  ];
  return lines.join('\n');
}

/** @param {string[]} cells */
const row = (cells) => `| ${cells.join(' | ')} |`;

/** @param {import('./figures.js').ServerResult} result */
const label = (result) => (result.version ? `${result.name} ${result.version}` : result.name);

/**
 * The figure, the ratio of serve-dir to it (not on serve-dir's own row), and a ⚠ when its run had errors.
 * @param {import('./figures.js').Figure} figure
 * @param {import('./figures.js').ServerResult} result
 * @param {import('./measure.js').Measurements | undefined} baseline
 */
function cell(figure, result, baseline) {
  const m = /** @type {import('./measure.js').Measurements} */ (result.measurements);
  const value = figure.value(m);
  if (value === undefined) return 'n/a';
  let text = formatNumber(value);
  const reference = baseline && result.name !== BASELINE ? figure.value(baseline) : undefined;
  if (reference !== undefined && value > 0) text += ` (×${(reference / value).toFixed(2)})`;
  if (figureProblems(figure, m)) text += ' ⚠';
  return text;
}

/**
 * One line per server whose runs had errors or were n/a, saying which and why.
 * @param {import('./figures.js').ServerResult[]} measured
 */
function notes(measured) {
  const lines = [];
  for (const result of measured) {
    const m = /** @type {import('./measure.js').Measurements} */ (result.measurements);
    const remarks = Object.entries(m.load).flatMap(([load, run]) => {
      if ('na' in run) return [`${loadTitle(load)} n/a: ${run.na}`];
      return run.problems ? [`⚠ ${loadTitle(load)}: ${run.problems}`] : [];
    });
    if (remarks.length > 0) lines.push(`- ${result.name}: ${remarks.join('; ')}`);
  }
  return lines.length > 0 ? ['', 'Notes:', ...lines] : [];
}

/** @param {import('./figures.js').ServerResult[]} results */
function notMeasured(results) {
  const lines = results.filter((result) => !result.measurements).map((result) => `- ${result.name}: ${result.outcome} — ${result.reason}`);
  return lines.length > 0 ? ['', 'Not measured:', ...lines] : [];
}
