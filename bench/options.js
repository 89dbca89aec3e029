// Command-line flags of `node bench/run.js`, with defaults and one-line errors.
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVE_DIR_COMMAND, SERVERS } from './servers.js';

export const USAGE = `Usage: npm run bench -- [options]   (or: node bench/run.js [options])

Measures serve-dir against its peers on one corpus, each server pinned to CPU 0 and the
load generator to CPU 1, and prints a markdown table, the targets met, and a JSON file.

  --only a,b           servers to run (default: all): ${SERVERS.map((s) => s.name).join(', ')}
  --duration N         seconds per load run (default 4; 2 with --quick)
  --rounds N           runs of each load on each server, the servers taking turns; the
                       median is reported (default 3; 1 with --quick)
  --pairs N            runs of each paired comparison of serve-dir with itself: the 304
                       against the 1 KiB file in alternating 1 s slices, --watch against
                       none loaded at the same time for 3 s (default 8; 2 with --quick)
  --quick              a short run, to check that everything works
  --no-http2           skip the HTTP/2 part at the end (bench/http2.js: h2load, the 300-module page)
  --port N             first port to try on 127.0.0.1 (default 18080)
  --corpus DIR         where the corpus is built and reused (default ${join(tmpdir(), 'serve-dir-bench-corpus')})
  --peers-dir DIR      where the Node peers are installed (default ~/.cache/serve-dir-peers; env PEERS_DIR)
  --serve-dir-cmd CMD  serve-dir's command line, {ROOT} and {PORT} replaced (env SERVE_DIR_CMD;
                       default "${DEFAULT_SERVE_DIR_COMMAND}")
  --load NAME          wrk or autocannon (default: wrk when on PATH)
  --max-minutes N      stop measuring after this long (default: from the plan)
  --out FILE           where the JSON results go (default: a new file under ${tmpdir()})
  -h, --help           this text`;

/**
 * @typedef {object} Options
 * @property {string[]} only
 * @property {number} seconds
 * @property {number} rounds
 * @property {number} pairs       cycles of the paired runs
 * @property {number} firstPort
 * @property {string} corpusDir
 * @property {string} peersDir
 * @property {string} serveDirCommand
 * @property {string | undefined} load
 * @property {number | undefined} maxMinutes
 * @property {string} out
 * @property {boolean} help
 * @property {boolean} quick
 * @property {boolean} http2      run bench/http2.js after the main report
 */

/** A flag the user got wrong: printed as one line, exit code 2. */
export class UsageError extends Error {}

/**
 * @param {string[]} argv  the arguments after the script name
 * @returns {Options}
 */
export function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string' },
        duration: { type: 'string' },
        rounds: { type: 'string' },
        pairs: { type: 'string' },
        quick: { type: 'boolean', default: false },
        'no-http2': { type: 'boolean', default: false },
        port: { type: 'string', default: '18080' },
        corpus: { type: 'string', default: join(tmpdir(), 'serve-dir-bench-corpus') },
        'peers-dir': { type: 'string', default: process.env.PEERS_DIR ?? join(homedir(), '.cache', 'serve-dir-peers') },
        'serve-dir-cmd': { type: 'string', default: process.env.SERVE_DIR_CMD ?? DEFAULT_SERVE_DIR_COMMAND },
        load: { type: 'string' },
        'max-minutes': { type: 'string' },
        out: { type: 'string', default: join(tmpdir(), `serve-dir-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(/** @type {Error} */ (error).message);
  }
  return {
    only: selectServers(values.only),
    seconds: positiveInteger('--duration', values.duration ?? (values.quick ? '2' : '4')),
    rounds: positiveInteger('--rounds', values.rounds ?? (values.quick ? '1' : '3')),
    pairs: positiveInteger('--pairs', values.pairs ?? (values.quick ? '2' : '8')),
    firstPort: positiveInteger('--port', values.port),
    corpusDir: resolve(values.corpus),
    peersDir: resolve(values['peers-dir']),
    serveDirCommand: values['serve-dir-cmd'],
    load: loadGenerator(values.load),
    maxMinutes: values['max-minutes'] === undefined ? undefined : positiveInteger('--max-minutes', values['max-minutes']),
    out: resolve(values.out),
    help: values.help,
    quick: values.quick,
    http2: !values['no-http2'],
  };
}

/** @param {string | undefined} list */
function selectServers(list) {
  const known = SERVERS.map((server) => server.name);
  if (list === undefined) return known;
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UsageError(`--only: unknown server ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return known.filter((name) => names.includes(name));
}

/**
 * @param {string} flag
 * @param {string} text
 */
function positiveInteger(flag, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag}: expected a whole number ≥ 1, got "${text}"`);
  return value;
}

/** @param {string | undefined} name */
function loadGenerator(name) {
  if (name !== undefined && name !== 'wrk' && name !== 'autocannon') throw new UsageError(`--load: expected wrk or autocannon, got "${name}"`);
  return name;
}
