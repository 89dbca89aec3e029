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

/** The server did not start; the message says why, with the end of its output. */
export class StartFailure extends Error {}

/**
 * @typedef {object} RunningServer
 * @property {import('node:child_process').ChildProcess} child
 * @property {number} pid
 * @property {number} port
 * @property {number} startMs  from spawn to the first 200 for READY_PATH
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
    throw new StartFailure(`${/** @type {Error} */ (error).message}${outputTail(logPath)}`);
  }
  const startMs = performance.now() - spawnedAt;
  return { child, pid: /** @type {number} */ (child.pid), port, startMs };
}

/** @param {RunningServer} server */
export async function stopServer(server) {
  await stopTracked(server.child);
}

/**
 * The last lines the server printed, to explain a failure.
 * @param {string} logPath
 */
function outputTail(logPath) {
  const lines = readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ');
  return lines ? ` — output: ${lines.slice(-400)}` : '';
}
