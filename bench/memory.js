// Resident memory of a server, read from /proc. A server may be more than one process (nginx's
// master and worker), so every figure is the sum over the process and its descendants.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The pid and the parent pid of every process, from /proc/<pid>/stat. The command name in
 * that file may contain spaces and parentheses, so the fields are read after its last ')'.
 * @returns {Map<number, number>} pid -> parent pid
 */
function parentsByPid() {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // the process ended while we looked
    }
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
