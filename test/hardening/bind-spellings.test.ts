// The DNS-rebinding check through the CLI: every spelling of a loopback address that
// the system accepts for --host (and --bind) listens on loopback, so a Host that is not
// a loopback name is refused, while the URL the banner prints keeps working.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, request, startCli, stopCli, tempDir, writeTree } from '../helpers/server.js';

afterAll(cleanup);

describe('the Host check follows the address actually bound', () => {
  it.each([
    ['--host', '127.1', '127.0.0.1'],
    ['--host', '0177.0.0.1', '127.0.0.1'],
    ['--host', '2130706433', '127.0.0.1'],
    ['--host', '0x7f.1', '127.0.0.1'],
    ['--host', '::ffff:127.0.0.1', '127.0.0.1'],
    ['--host', '0:0::1', '::1'],
    ['--host', '::0:1', '::1'],
    ['--bind', '127.1', '127.0.0.1'],
    ['--bind', '::0:1', '::1'],
    ['--bind', '127.0.0.1', '127.0.0.1'],
    ['--bind', 'localhost', '::1'],
  ])('%s %s (reached at %s): Host evil.example → 403; its own URL and localhost → 200', async (flag, spelling, address) => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<p>home</p>' });
    const cli = await startCli([root, '--port', '0', '--quiet', flag, spelling]);
    const { port } = cli;
    expect((await request(port, '/index.html', { address, hostHeader: 'evil.example' })).status).toBe(403);
    expect((await request(port, '/index.html', { address, hostHeader: `evil.example:${port}` })).status).toBe(403);
    expect((await request(port, '/index.html', { address, hostHeader: `localhost:${port}` })).status).toBe(200);
    // The banner's URL, as curl sends it (verbatim) and as a browser does (canonical).
    const own = new URL(cli.url);
    expect((await request(port, '/index.html', { address, hostHeader: cli.url.slice('http://'.length) })).status).toBe(200);
    expect((await request(port, '/index.html', { address, hostHeader: own.host })).status).toBe(200);
    expect((await stopCli(cli)).code).toBe(0);
  });
});
