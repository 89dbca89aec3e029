// What /proc says about a server: its resident memory and whether it is still busy. A server
// may be more than one process (nginx's master and worker), so every figure is the sum over
// the process and its descendants.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The fields of /proc/<pid>/stat after the command name, which may contain spaces and
 * parentheses and so ends at the last ')'; index 0 is the state, 1 the parent pid, 11 and 12
 * the user and system CPU time in clock ticks. Undefined when the process is gone.
 * @param {number | string} pid
 */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** @returns {Map<number, number>} pid -> parent pid, for every process */
function parentsByPid() {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    const fields = /^\d+$/.test(entry) ? statFields(entry) : undefined;
    if (fields) parents.set(Number(entry), Number(fields[1]));
  }
  return parents;
}

/**
 * The process and all of its descendants.
 * @param {number} rootPid
 * @returns {number[]}
 */
export function processTree(rootPid) {
  const parents = parentsByPid();
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  }
  return tree;
}

/**
 * One "VmXxx: N kB" field of /proc/<pid>/status, in bytes; 0 when the process is gone.
 * @param {number} pid
 * @param {'VmRSS' | 'VmHWM'} field
 */
function statusBytes(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Current resident set size of the processes, summed.
 * @param {number[]} pids
 */
export function residentBytes(pids) {
  return pids.reduce((sum, pid) => sum + statusBytes(pid, 'VmRSS'), 0);
}

/**
 * Highest resident set size each process ever had (the kernel's high-water mark), summed.
 * Exact for one process; for several it can only overstate, never miss a peak between samples.
 * @param {number[]} pids
 */
export function peakResidentBytes(pids) {
  return pids.reduce((sum, pid) => sum + statusBytes(pid, 'VmHWM'), 0);
}

/**
 * Samples the resident size of the processes until stopped; returns the largest sample.
 * @param {number[]} pids
 * @param {number} intervalMs
 * @returns {{ stop: () => number }}
 */
export function sampleResidentBytes(pids, intervalMs) {
  let largest = residentBytes(pids);
  const timer = setInterval(() => {
    largest = Math.max(largest, residentBytes(pids));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(largest, residentBytes(pids));
    },
  };
}

/**
 * CPU time used so far by the processes, in clock ticks.
 * @param {number[]} pids
 */
function cpuTicks(pids) {
  return pids.reduce((sum, pid) => {
    const fields = statFields(pid);
    return fields ? sum + Number(fields[11]) + Number(fields[12]) : sum;
  }, 0);
}

/**
 * Resolves once the processes use (almost) no CPU, or after maxMs. A server may still be working
 * for clients the last load run left behind (a listing of 10,000 entries is not abandoned when
 * its client hangs up); that work must not be charged to the next run.
 * @param {number[]} pids
 * @param {{ maxMs: number, signal: AbortSignal }} options
 */
export async function waitUntilIdle(pids, { maxMs, signal }) {
  const intervalMs = 100;
  // One tick is 10 ms at the usual 100 Hz: at most a tenth of a core over the interval.
  const idleTicks = 1;
  let before = cpuTicks(pids);
  for (let waited = 0; waited < maxMs; waited += intervalMs) {
    await delay(intervalMs, undefined, { signal });
    const now = cpuTicks(pids);
    if (now - before <= idleTicks) return;
    before = now;
  }
}
