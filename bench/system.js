// What this machine offers the benchmark: executables on PATH, CPU pinning, a description for the report.
import { accessSync, constants, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import os from 'node:os';

/** The server runs on one core and the load generator on the other, so that they never compete. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

/**
 * The absolute path of an executable found on PATH, like `command -v`.
 * @param {string} name
 * @returns {string | undefined}
 */
export function findExecutable(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const taskset = findExecutable('taskset');

/** Pinning needs taskset and at least the two cores named above. */
export const canPin = taskset !== undefined && os.availableParallelism() > LOAD_CPU;

/**
 * The command line that runs `command args` on one CPU (unchanged when pinning is impossible).
 * taskset execs the command, so the spawned pid is the command's own pid.
 * @param {number} cpu
 * @param {string} command
 * @param {string[]} args
 * @returns {{ command: string, args: string[] }}
 */
export function onCpu(cpu, command, args) {
  if (!canPin || taskset === undefined) return { command, args };
  return { command: taskset, args: ['-c', String(cpu), command, ...args] };
}

/**
 * Moves every thread of this process (and so every child it spawns later) to one CPU,
 * so that polling and bookkeeping never steal time from the server under test.
 * @param {number} cpu
 */
export function pinThisProcess(cpu) {
  if (!canPin || taskset === undefined) return;
  spawnSync(taskset, ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/**
 * One line naming the CPU, core count, OS, TCP congestion control and Node version, for the
 * report's header. The congestion control matters: BBR paces even on loopback, and serve-dir
 * writes bodies differently under it (src/write-slices.ts).
 */
export function describeMachine() {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  let congestion = '';
  try {
    congestion = `, TCP ${readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'latin1').trim()}`;
  } catch {
    // not Linux: nothing to say
  }
  return `${model} × ${cpus.length}, ${os.type()} ${os.release()}${congestion}, Node ${process.version}`;
}

/**
 * The version a Node package declares, from its package.json.
 * @param {string} packageDir
 */
export function packageVersion(packageDir) {
  return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
}
