// Starting a server, timing how long until it answers, and stopping it.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { hasExited, spawnTracked, stopTracked } from './children.js';
import { waitForOk } from './http.js';
import { findFreePort } from './ports.js';
import { SERVER_CPU, onCpu } from './system.js';

/** Longer than any server here needs, even one that walks the 10,000-file directory first. */
const START_TIMEOUT_MS = 30_000;
/** The URL whose first 200 marks a server as started. */
export const READY_PATH = '/small.txt';

/**
 * @typedef {object} RunningServer
 * @property {import('node:child_process').ChildProcess} child
 * @property {number} pid
 * @property {number} port
 * @property {number} startMs  from spawn to the first 200 for READY_PATH
 * @property {string} logPath  where its output goes
 */

/**
 * Spawns the server pinned to its CPU and waits for its first 200. Its output goes to a file,
 * not to a pipe: a server logging every request (python) must not make us read it all.
 * @param {import('./servers.js').Prepared} prepared
 * @param {{ firstPort: number, logPath: string, signal: AbortSignal }} options
 * @returns {Promise<RunningServer>}
 */
export async function startServer(prepared, { firstPort, logPath, signal }) {
  const port = await findFreePort(firstPort);
  const { command, args, env, cwd } = prepared.launch(port);
  const pinned = onCpu(SERVER_CPU, command, args);
  const log = openSync(logPath, 'a');
  const spawnedAt = performance.now();
  const child = spawnTracked(pinned.command, pinned.args, { stdio: ['ignore', log, log], env, cwd });
  closeSync(log);
  /** @type {Error | undefined} */
  let spawnError;
  child.once('error', (error) => (spawnError = error));
  const gaveUp = () => {
    if (spawnError) return `could not run ${command}: ${spawnError.message}`;
    if (hasExited(child)) return `exited (${child.exitCode ?? child.signalCode}) before answering`;
    return undefined;
  };
  try {
    await waitForOk(port, READY_PATH, { deadlineMs: START_TIMEOUT_MS, gaveUp, signal });
  } catch (error) {
    await stopTracked(child);
    signal.throwIfAborted();
    throw new Error(`${/** @type {Error} */ (error).message}${outputTail(logPath)}`);
  }
  const startMs = performance.now() - spawnedAt;
  return { child, pid: /** @type {number} */ (child.pid), port, startMs, logPath };
}

/**
 * Why a server that had started is gone (it crashed or quit under load), or undefined while it runs.
 * @param {RunningServer} server
 */
export function exitReason(server) {
  if (!hasExited(server.child)) return undefined;
  return `the server exited (${server.child.exitCode ?? server.child.signalCode})${outputTail(server.logPath)}`;
}

/** @param {RunningServer} server */
export async function stopServer(server) {
  await stopTracked(server.child);
}

/**
 * What the server printed that explains a failure: its error message if it printed one
 * (a Node crash ends with a stack trace and a version line, which explain nothing), else its last lines.
 * @param {string} logPath
 */
function outputTail(logPath) {
  const lines = readFileSync(logPath, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
  const error = lines.findLast((line) => /error/i.test(line) && !line.startsWith('at '));
  const shown = error ?? lines.slice(-3).join(' | ');
  return shown ? ` — output: ${shown.slice(-400)}` : '';
}
