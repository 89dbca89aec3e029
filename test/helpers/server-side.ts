/**
 * The server's end of a test client's connection, for tests that must see what the
 * server did to it: when it closed the connection (a client that stopped reading sees
 * the end only once it reads up to it), what waits on its socket.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** The server's end of one connection, and when it closed (performance.now()). */
export interface ServerSide {
  socket: Socket;
  closedAt: Promise<number>;
}

/**
 * The server's end of each connection, found by the client's port. One 'connection'
 * listener per server however many clients there are (one each would pile up past
 * Node's limit of 10 with the clients at the cap), and each close timed as it happens.
 */
const serverSides = new WeakMap<Server, (clientPort: number) => Promise<ServerSide>>();
export function serverSideOf(server: Server): (clientPort: number) => Promise<ServerSide> {
  let find = serverSides.get(server);
  if (find !== undefined) return find;
  const arrived = new Map<number, ServerSide>();
  const waiting = new Map<number, (side: ServerSide) => void>();
  server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return; // already gone
    const side = { socket, closedAt: new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now()))) };
    const waiter = waiting.get(port);
    waiting.delete(port);
    if (waiter !== undefined) waiter(side);
    else arrived.set(port, side);
  });
  find = (clientPort) => {
    const side = arrived.get(clientPort);
    arrived.delete(clientPort);
    return side !== undefined ? Promise.resolve(side) : new Promise((resolve) => waiting.set(clientPort, resolve));
  };
  serverSides.set(server, find);
  return find;
}

