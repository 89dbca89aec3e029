// What this process watches with inotify (Linux), read from /proc: the check that ignored
// folders are never watched and that a watch is held per folder, not per file.

import { readdir, readFile, readlink } from 'node:fs/promises';

/** Inode numbers of everything this process watches with inotify, one entry per watch. */
export async function inotifyWatchedInodes(): Promise<number[]> {
  const inodes: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== 'anon_inode:inotify') continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
    for (const match of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) inodes.push(Number.parseInt(match[1]!, 16));
  }
  return inodes;
}
