import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { truncate, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, exchange, parseResponse, settles, startCli, stopCli, tempDir } from '../helpers/server.js';

/** Far more than a client that stops reading lets the server hand to the kernel in 2 s. */
const BIG_SIZE = 32 * 1024 * 1024;
/**
 * Still more than a stopped client lets the server get rid of, so the response is
 * in flight however long the client waits: about 6 MiB leave the server (the 4 MiB
 * send buffer of Linux's default tcp_wmem, the receive window a reader that stopped
 * at once left open, the two 1 MiB buffers of a download). Twice that, and no more,
 * because all of it must cross within the 2 s grace after SIGTERM, on a loaded
 * machine too (32 MiB did not: 25 MiB arrived with two CPU-bound processes beside).
 */
const IN_FLIGHT_SIZE = 12 * 1024 * 1024;
let site: string;

beforeAll(async () => {
  site = await tempDir();
  await writeFile(join(site, 'small.txt'), 'small');
  for (const [name, size] of [['big.bin', BIG_SIZE], ['in-flight.bin', IN_FLIGHT_SIZE]] as const) {
    await writeFile(join(site, name), '');
    await truncate(join(site, name), size); // sparse zeros
  }
});
afterAll(cleanup);

/** Open a connection, send a GET for `path`, and stop reading once the first bytes arrive. */
async function startSlowDownload(port: number, path: string): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  const [first] = (await once(socket, 'data')) as [Buffer];
  socket.pause();
  received.push(first);
  return { socket, received };
}

/** The server refuses new connections: it has stopped listening. */
async function refusesConnections(port: number): Promise<boolean> {
  return exchange(port, 'GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n').then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
  );
}

describe('stopping', () => {
  it.each([['SIGTERM'], ['SIGINT']] as const)('%s exits 0 at once, even with an idle keep-alive connection open', async (signal) => {
    const cli = await startCli([site, '--port', '0', '--quiet']);
    // A browser keeps connections open between requests; they must not hold the exit up.
    const idle = connect(cli.port, '127.0.0.1');
    idle.write('GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await once(idle, 'data');
    const closedByServer = once(idle, 'close');
    const exit = await stopCli(cli, signal);
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(1500);
    await closedByServer;
  });

  it('SIGTERM the moment the URL appears is already a graceful stop (exit 0), five times over', async () => {
    for (let round = 0; round < 5; round++) {
      const cli = await startCli([site, '--port', '0', '--quiet']);
      expect(await stopCli(cli, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
    }
  });

  it('a download in flight when SIGTERM arrives still completes, and then the process exits 0', async () => {
    const cli = await startCli([site, '--port', '0', '--quiet']);
    const { socket, received } = await startSlowDownload(cli.port, '/in-flight.bin');
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = once(socket, 'end');

    cli.child.kill('SIGTERM');
    // Only once the server has stopped accepting does the slow reader catch up.
    await settles(() => refusesConnections(cli.port));
    // Stopped listening, yet still running: it waits for the download (with nothing in
    // flight it exits at once, as above). The size makes sure there is something to wait for.
    expect(cli.child.exitCode).toBeNull();
    socket.resume();
    await ended;
    const exit = await cli.exited;

    // Complete, so not cut at the end of the grace; how soon it arrived is the machine's business.
    const response = parseResponse(Buffer.concat(received));
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(IN_FLIGHT_SIZE);
    expect(createHash('sha256').update(response.body).digest('hex')).toBe(
      createHash('sha256').update(Buffer.alloc(IN_FLIGHT_SIZE)).digest('hex'),
    );
    expect(exit.code).toBe(0);
  });

  it('a client that stops reading cannot hold the exit up beyond the 2 s grace', async () => {
    const cli = await startCli([site, '--port', '0', '--quiet']);
    const { socket, received } = await startSlowDownload(cli.port, '/big.bin');
    const exit = await stopCli(cli, 'SIGTERM');
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeGreaterThan(1500);
    // Held up for ever would be the bug; twice the grace leaves a loaded machine room to exit.
    expect(exit.ms).toBeLessThan(4000);
    // Whatever was already in flight can still be read; the rest never comes.
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {}); // a reset is as good as an end here
    const cut = once(socket, 'close');
    socket.resume();
    await cut;
    expect(Buffer.concat(received).length).toBeLessThan(BIG_SIZE);
  });
});
