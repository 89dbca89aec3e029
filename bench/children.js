// Every process the benchmark starts is spawned here, in a process group of its own, so that
// the whole group (an nginx master and its worker, say) can be ended at once, on any exit.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

/**
 * Spawns a child in its own process group and remembers it until it exits.
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  running.add(child);
  const forget = () => running.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
function signalGroup(child, signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** @param {import('node:child_process').ChildProcess} child */
export function hasExited(child) {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/**
 * Asks a child to stop (SIGTERM), insists after graceMs (SIGKILL), and resolves once it has exited.
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} [graceMs]
 */
export async function stopTracked(child, graceMs = 3000) {
  if (!hasExited(child)) {
    const exited = once(child, 'exit');
    signalGroup(child, 'SIGTERM');
    const insist = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(insist);
  }
  // Group members that outlived the leader, such as a worker whose master was killed.
  signalGroup(child, 'SIGKILL');
}

/** Kills every tracked process group at once; synchronous, so it can run in an 'exit' handler. */
export function killAllTracked() {
  for (const child of running) signalGroup(child, 'SIGKILL');
}

/**
 * Makes sure no child outlives the benchmark: on normal exit, on Ctrl-C and on SIGTERM.
 * @param {() => void} [alsoOnExit] more synchronous clean-up (e.g. removing a temporary directory)
 */
export function cleanUpOnExit(alsoOnExit) {
  process.once('exit', () => {
    killAllTracked();
    alsoOnExit?.();
  });
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/**
 * Runs a command to its end and collects its output; killed when the signal aborts or the time is up.
 * @param {string} command
 * @param {string[]} args
 * @param {{ signal?: AbortSignal, timeoutMs: number, env?: NodeJS.ProcessEnv, cwd?: string }} options
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export async function runToEnd(command, args, { signal, timeoutMs, env, cwd }) {
  signal?.throwIfAborted();
  const child = spawnTracked(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  let timedOut = false;
  const kill = () => signalGroup(child, 'SIGKILL');
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const [code] = await once(child, 'close');
    signal?.throwIfAborted();
    if (timedOut) throw new Error(`${command} ${args.join(' ')}: still running after ${timeoutMs / 1000} s`);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', kill);
  }
}
