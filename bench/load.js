// The load generator: wrk when installed, else autocannon in a child process. Either way it
// runs pinned to its own CPU and its figures come back in one shape, LoadResult.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runToEnd } from './children.js';
import { LOAD_CPU, findExecutable, onCpu } from './system.js';

/**
 * @typedef {object} LoadErrors
 * @property {number} status   answers with a status of 400 or more
 * @property {number} socket   connections refused, reset or broken
 * @property {number} timeout  requests that took longer than REQUEST_TIMEOUT_S
 *
 * @typedef {object} LoadResult
 * @property {number} requests
 * @property {number} bytes
 * @property {number} seconds
 * @property {number} rps
 * @property {number} bytesPerSec
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {LoadErrors} errors
 *
 * @typedef {object} LoadRequest
 * @property {number} port
 * @property {string} path
 * @property {number} connections
 * @property {number} seconds      whole seconds (wrk's unit)
 * @property {Record<string, string>} [headers]
 * @property {AbortSignal} signal
 *
 * @typedef {{ name: string, run: (request: LoadRequest) => Promise<LoadResult> }} LoadGenerator
 */

/** A request slower than this is an error; long enough for one 100 MiB download from a slow server. */
const REQUEST_TIMEOUT_S = 10;
/** How long past its own duration a load run may take (connecting, reporting) before it is killed. */
const OVERRUN_MS = 30_000;

/**
 * wrk's done() hook has the exact totals and latency percentiles (its text output rounds them
 * to three digits); it prints them as the last line of output, as JSON.
 */
const WRK_REPORT_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{"requests":%d,"bytes":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,' ..
    '"errors":{"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}}\\n',
    summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
`;

/**
 * @param {{ prefer?: string, workDir: string }} options  prefer: 'wrk' or 'autocannon'
 * @returns {LoadGenerator}
 */
export function chooseLoadGenerator({ prefer, workDir }) {
  const wrk = findExecutable('wrk');
  if (prefer === 'wrk' && !wrk) throw new Error('--load wrk: wrk is not on PATH');
  if (wrk && prefer !== 'autocannon') return wrkGenerator(wrk, workDir);
  return autocannonGenerator();
}

/**
 * @param {string} wrk
 * @param {string} workDir
 * @returns {LoadGenerator}
 */
function wrkGenerator(wrk, workDir) {
  const script = join(workDir, 'wrk-report.lua');
  writeFileSync(script, WRK_REPORT_LUA);
  return {
    name: 'wrk',
    async run({ port, path, connections, seconds, headers = {}, signal }) {
      const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
      const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', `${REQUEST_TIMEOUT_S}s`, '-s', script, ...headerArgs, `http://127.0.0.1:${port}${path}`];
      const pinned = onCpu(LOAD_CPU, wrk, args);
      const { stdout, stderr } = await runToEnd(pinned.command, pinned.args, { signal, timeoutMs: seconds * 1000 + OVERRUN_MS });
      const report = lastJsonLine(stdout);
      if (!report) throw new Error(`wrk printed no report: ${(stderr || stdout).trim()}`);
      return loadResult({
        requests: report.requests,
        bytes: report.bytes,
        seconds: report.durationUs / 1e6,
        p50Ms: report.p50Us / 1000,
        p99Ms: report.p99Us / 1000,
        errors: {
          status: report.errors.status,
          socket: report.errors.connect + report.errors.read + report.errors.write,
          timeout: report.errors.timeout,
        },
      });
    },
  };
}

/** @returns {LoadGenerator} */
function autocannonGenerator() {
  const child = fileURLToPath(new URL('./autocannon-child.js', import.meta.url));
  return {
    name: 'autocannon',
    async run({ port, path, connections, seconds, headers = {}, signal }) {
      const options = { url: `http://127.0.0.1:${port}${path}`, connections, duration: seconds, headers, timeout: REQUEST_TIMEOUT_S };
      const pinned = onCpu(LOAD_CPU, process.execPath, [child, JSON.stringify(options)]);
      const { stdout, stderr } = await runToEnd(pinned.command, pinned.args, { signal, timeoutMs: seconds * 1000 + OVERRUN_MS });
      const report = lastJsonLine(stdout);
      if (!report) throw new Error(`autocannon printed no report: ${(stderr || stdout).trim()}`);
      // autocannon counts timeouts among its errors.
      return loadResult({
        requests: report.requests.total,
        bytes: report.throughput.total,
        seconds: report.duration,
        p50Ms: report.latency.p50,
        p99Ms: report.latency.p99,
        errors: { status: report['4xx'] + report['5xx'], socket: report.errors - report.timeouts, timeout: report.timeouts },
      });
    },
  };
}

/**
 * @param {Omit<LoadResult, 'rps' | 'bytesPerSec'>} totals
 * @returns {LoadResult}
 */
function loadResult(totals) {
  return { ...totals, rps: totals.requests / totals.seconds, bytesPerSec: totals.bytes / totals.seconds };
}

/** @param {string} output */
function lastJsonLine(output) {
  const line = output.trim().split('\n').findLast((text) => text.startsWith('{'));
  return line === undefined ? undefined : JSON.parse(line);
}

/**
 * Why a run's figures cannot be taken at face value (a server answering errors fast is not
 * fast), or undefined when every request succeeded.
 * @param {LoadResult} result
 */
export function loadProblems(result) {
  const { status, socket, timeout } = result.errors;
  const problems = [];
  // A run may end before any 100 MiB download completes; only nothing at all received is wrong.
  if (result.bytes === 0) problems.push('no byte received within the run');
  if (status > 0) problems.push(`${status} answers ≥ 400`);
  if (socket > 0) problems.push(`${socket} socket errors`);
  if (timeout > 0) problems.push(`${timeout} timeouts`);
  return problems.length > 0 ? problems.join(', ') : undefined;
}
