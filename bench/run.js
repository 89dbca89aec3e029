#!/usr/bin/env node
// npm run bench: serve-dir against its peers, on one corpus, in one run.
// Reads top to bottom: options, corpus, peers; each server's starts timed; the loads in rounds
// of fresh starts; the memory under load of each; serve-dir against itself in paired runs; the
// report.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanUpOnExit } from './children.js';
import { ensureCorpus } from './corpus.js';
import { chooseLoadGenerator } from './load.js';
import { LOADS, finish, measureLoads, timeStarts } from './measure.js';
import { USAGE, UsageError, parseOptions } from './options.js';
import { measurePaired, renderPaired } from './paired.js';
import { measureProxyOverhead, renderProxyOverhead } from './proxy.js';
import { installMissingPeers } from './peers.js';
import { SERVERS, Unavailable } from './servers.js';
import { LOAD_CPU, SERVER_CPU, canPin, describeMachine, pinThisProcess } from './system.js';
import { renderTable } from './table.js';
import { evaluateTargets, renderTargets } from './targets.js';

const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
const START_SAMPLES = 5;
const PAIRED_INTRO =
  'The two targets that compare serve-dir with itself are judged on these runs, made so that both sides meet the same noise (`bench/README.md`).';

/** Progress goes to stderr, so that stdout holds only the report. @param {string} message */
const log = (message) => process.stderr.write(`bench: ${message}\n`);

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const workDir = mkdtempSync(join(tmpdir(), 'serve-dir-bench-run-'));
  cleanUpOnExit(() => rmSync(workDir, { recursive: true, force: true }));
  const specs = SERVERS.filter((spec) => options.only.includes(spec.name));
  const signal = timeBudget(options.maxMinutes ?? plannedMinutes(specs.length, options.seconds, options.rounds, options.pairs));

  const corpus = ensureCorpus(options.corpusDir, log);
  const npmPackages = specs.flatMap((spec) => (spec.npmPackage ? [spec.npmPackage] : []));
  await installMissingPeers(options.peersDir, npmPackages, { log, signal });
  pinThisProcess(LOAD_CPU);
  const generator = chooseLoadGenerator({ prefer: options.load, workDir });
  const setup = describeSetup(generator.name, options.seconds, options.rounds);
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir);

  /** @type {import('./measure.js').Plan} */
  const plan = { corpus, generator, seconds: options.seconds, rounds: options.rounds, starts: START_SAMPLES, firstPort: options.firstPort, logDir, signal, log };
  /** @type {import('./servers.js').ServerContext} */
  const context = {
    root: corpus.root,
    repoDir: REPO_DIR,
    peersDir: options.peersDir,
    serveDirCommand: options.serveDirCommand,
    workDir,
    mediumSize: corpus.files.medium.size,
  };
  /** @type {import('./figures.js').ServerResult[]} */
  const results = [];
  /** @type {Map<import('./figures.js').ServerResult, import('./measure.js').Contender>} */
  const contenders = new Map();
  for (const spec of specs) {
    const { result, contender } = await start(spec, context, plan);
    results.push(result);
    if (contender) contenders.set(result, contender);
  }
  await measureLoads([...contenders.values()], plan).catch((error) => {
    if (!plan.signal.aborted) throw error;
  });
  for (const [result, contender] of contenders) {
    try {
      if (contender.failed) throw new Error(contender.failed);
      plan.signal.throwIfAborted();
      result.measurements = await finish(contender, plan);
    } catch (error) {
      const budget = plan.signal.aborted;
      Object.assign(result, { outcome: budget ? 'skipped' : 'failed', reason: budget ? 'the time budget ran out during its run' : /** @type {Error} */ (error).message });
    }
  }

  const measuredOk = (/** @type {string} */ name) => [...contenders.values()].find((c) => c.name === name && !c.failed);
  const [plainSide, watchSide] = [measuredOk('serve-dir'), measuredOk('serve-dir-watch')];
  const paired =
    plainSide && !plan.signal.aborted
      ? await measurePaired(plainSide, watchSide, { ...plan, cycles: options.pairs }).catch((error) => {
          if (!plan.signal.aborted) throw error;
          return undefined;
        })
      : undefined;

  // The reverse proxy's overhead (issue 15), in the same run; the target is judged in the proxy section.
  const proxy = options.only.includes('serve-dir') && !plan.signal.aborted
    ? await measureProxyOverhead({ seconds: options.seconds, rounds: options.rounds, log }).catch((error) => {
        log(`proxy overhead: ${error.message}`);
        return undefined;
      })
    : undefined;
  const proxySection = proxy ? ['### Reverse proxy', '', ...renderProxyOverhead(proxy), ''] : [];

  const verdicts = evaluateTargets(results, paired);
  const pairedSection = paired ? ['### Paired runs', '', PAIRED_INTRO, '', renderPaired(paired), ''] : [];
  console.log([`## serve-dir benchmark, ${new Date().toISOString().slice(0, 10)}`, '', setup, '', renderTable(results), '', ...pairedSection, ...proxySection, '### Targets', '', renderTargets(verdicts), ''].join('\n'));
  writeFileSync(options.out, JSON.stringify({ date: new Date().toISOString(), setup, corpus, results, paired, proxy, targets: verdicts }, null, 2));
  console.log(`Raw results: ${options.out}`);

  // HTTP/2 (h2load against nginx, sirv-cli --http2) and the 300-module page: bench/http2.js,
  // also run alone as `npm run bench:http2`.
  if (options.http2 && !plan.signal.aborted) {
    const args = options.quick ? ['--seconds', '2', '--rounds', '1', '--loads', '2'] : ['--rounds', String(options.rounds)];
    log('HTTP/2: bench/http2.js ' + args.join(' '));
    const child = spawnSync(process.execPath, [join(REPO_DIR, 'bench/http2.js'), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (child.status !== 0) log(`HTTP/2 bench ended with status ${child.status}`);
  }
}

/**
 * Times a server's starts; one that is not installed or does not start is reported and the
 * run goes on with the next.
 * @param {import('./servers.js').ServerSpec} spec
 * @param {import('./servers.js').ServerContext} context
 * @param {import('./measure.js').Plan} plan
 * @returns {Promise<{ result: import('./figures.js').ServerResult, contender?: import('./measure.js').Contender }>}
 */
async function start(spec, context, plan) {
  /** @type {import('./figures.js').ServerResult} */
  const base = { name: spec.name, role: spec.role, outcome: 'measured' };
  if (plan.signal.aborted) return { result: { ...base, outcome: 'skipped', reason: 'the time budget was used up' } };
  let prepared;
  try {
    prepared = spec.prepare(context);
  } catch (error) {
    if (!(error instanceof Unavailable)) throw error;
    log(`${spec.name}: ${error.message}`);
    return { result: { ...base, outcome: 'unavailable', reason: error.message } };
  }
  const launch = prepared.launch(plan.firstPort);
  const described = { ...base, version: prepared.version, command: [launch.command, ...launch.args] };
  log(`${spec.name} ${prepared.version}: starting`);
  try {
    return { result: described, contender: await timeStarts(spec.name, prepared, plan) };
  } catch (error) {
    if (plan.signal.aborted) return { result: { ...described, outcome: 'skipped', reason: 'the time budget ran out during its run' } };
    const reason = /** @type {Error} */ (error).message;
    log(`${spec.name}: ${reason}`);
    return { result: { ...described, outcome: 'failed', reason } };
  }
}

/**
 * Generous room for each server: its starts, the warm-up (4 s), its rounds of the five loads and the
 * fifty-client run, twice over, plus ten minutes for building the corpus and installing the peers.
 * @param {number} servers
 * @param {number} seconds
 * @param {number} rounds
 * @param {number} pairs
 */
function plannedMinutes(servers, seconds, rounds, pairs) {
  const perServerS = 2 * (START_SAMPLES * 4 + rounds * (6 + LOADS.length * (seconds + 2)) + rounds * (seconds + 4));
  // Two servers warmed up; 304 slices (2 per cycle, 1 s); five loads at once (3 s per cycle); idle waits.
  const pairedS = 2 * (10 + pairs * (2 * 3 + LOADS.length * 5));
  return Math.ceil((servers * perServerS + pairedS + 600) / 60);
}

/**
 * A signal that aborts the measurements when the budget is spent, and a last-resort exit a
 * minute later should anything ignore it.
 * @param {number} minutes
 */
function timeBudget(minutes) {
  const ms = minutes * 60_000;
  setTimeout(() => {
    log(`still running a minute past the ${minutes}-minute budget; giving up`);
    process.exit(3);
  }, ms + 60_000).unref();
  return AbortSignal.timeout(ms);
}

/**
 * @param {string} loadGenerator
 * @param {number} seconds
 * @param {number} rounds
 */
function describeSetup(loadGenerator, seconds, rounds) {
  const pinning = canPin ? `server pinned to CPU ${SERVER_CPU}, ${loadGenerator} to CPU ${LOAD_CPU}` : 'not pinned (no taskset or a single CPU)';
  const connections = LOADS.map((spec) => `${spec.title} ${spec.connections}`).join(', ');
  const busy = loadavg()[0] ?? 0;
  const machine = `${describeMachine()}, load average ${busy.toFixed(2)} at the start${busy > 0.5 ? ' (other processes were busy: expect noise)' : ''}`;
  const perFigure = rounds === 1 ? `${seconds} s per figure` : `each figure the median of ${rounds} rounds of ${seconds} s, the servers taking turns`;
  return `${machine}. Load: ${loadGenerator}, ${perFigure}; connections: ${connections}; ${pinning}. Start time: median of ${START_SAMPLES} starts. MB = 10^6 bytes.`;
}

main().catch((error) => {
  if (error instanceof UsageError) {
    log(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
