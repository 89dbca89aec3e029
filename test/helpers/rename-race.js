// A worker thread that renames things over one name as fast as it can, while the
// server (on the main thread) answers requests for that name: a real race, on
// another core, as another process would run it. Plain JavaScript so that both
// the tests and bench/soak.js can start it.
//
// workerData: { name, spares, stop, limitMs, byRename }
//   name     the contested path; it starts holding the thing of kind 0
//   spares   one path per kind (kind 0's is free at the start): each thing waits there
//            for its turn. All on the file system of `name`.
//   stop     Int32Array on a SharedArrayBuffer: the main thread stores 1 to stop
//   limitMs  how long after starting the worker stops on its own (the main thread may be
//            stuck: then it cannot store 1, and the worker must unpark it)
//   byRename move the occupant back to its spare name before the next kind takes its
//            place (needed for folders, which cannot be hard-linked; the name is absent
//            for a moment each turn)
//
// It posts 'racing' as it starts (a worker takes a while to start on a busy machine, and a
// race that has not begun proves nothing). After stopping, it waits for { finish: kind }, cycles until that kind holds the name,
// opens every FIFO for writing once (which wakes any reader parked on opening it, and
// counts them), and posts { swaps, parked, parkedAtDeadline }.

import { closeSync, constants, linkSync, lstatSync, openSync, renameSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { name, spares, stop, limitMs, byRename = false } = workerData;
const deadline = Date.now() + limitMs;
let occupant = 0;
let swaps = 0;

/** Keep the occupant under its spare name (a hard link: even a symlink or FIFO is kept as it is), then rename the next kind over the name. */
function swap() {
  const next = (occupant + 1) % spares.length;
  if (byRename) renameSync(name, spares[occupant]);
  else linkSync(name, spares[occupant]);
  renameSync(spares[next], name);
  occupant = next;
  swaps++;
}

/** Open each FIFO for writing without blocking: it succeeds only while a reader holds it open (or waits to). */
function releaseParkedReaders() {
  let parked = 0;
  for (const path of [name, ...spares]) {
    try {
      if (!lstatSync(path).isFIFO()) continue;
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      parked++;
    } catch {
      // ENXIO: no reader. ENOENT: this kind is the occupant.
    }
  }
  return parked;
}

parentPort.postMessage('racing');
while (Atomics.load(stop, 0) === 0 && Date.now() < deadline) swap();
const parkedAtDeadline = Atomics.load(stop, 0) === 0 ? releaseParkedReaders() : 0;

parentPort.once('message', ({ finish }) => {
  while (occupant !== finish) swap();
  const parked = releaseParkedReaders();
  parentPort.postMessage({ swaps, parked, parkedAtDeadline });
});
