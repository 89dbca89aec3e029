// Finding a free port on 127.0.0.1 before each start, so that no server silently fails to bind
// (or, like `serve`, moves to another port) and the load goes to something else.
import { createServer } from 'node:net';

/** @param {number} port */
function isPortFree(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1' }, () => probe.close(() => resolve(true)));
  });
}

/**
 * The first free port from `first` on, trying at most `tries` ports.
 * @param {number} first
 * @param {number} [tries]
 */
export async function findFreePort(first, tries = 50) {
  for (let port = first; port < first + tries; port++) {
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${first} and ${first + tries - 1}`);
}
