import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../../src/options.js';
import { cleanup, FIXTURE_SITE, onCleanup, request, runCli, spawnCli, stopCli, tempDir } from '../helpers/server.js';

afterAll(cleanup);

const asRoot = process.getuid?.() === 0;
/** Root may bind any port; the permission test runs the CLI as nobody then. */
const UNPRIVILEGED = asRoot ? { uid: 65534, gid: 65534 } : {};

/** Lowest port an unprivileged process may bind on Linux (1024 unless the system lowered it). */
async function unprivilegedPortStart(): Promise<number> {
  const text = await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(() => '1024');
  return Number(text.trim());
}

/**
 * Whether a process can get a network namespace of its own (an empty one,
 * loopback only) here: root, or unprivileged user namespaces.
 */
const NETWORK_NAMESPACE = ['unshare', '-rn', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];
const hasNetworkNamespace = spawnSync(NETWORK_NAMESPACE[0]!, [...NETWORK_NAMESPACE.slice(1), 'true']).status === 0;

function expectOneLineError(stderr: string, message: string | RegExp): void {
  expect(stderr.split('\n')).toEqual([expect.stringMatching(/^serve-dir: /), '']);
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('listening', () => {
  it('a port named with --port that is busy → exit 1, one line, no fallback', async () => {
    const occupant = createServer();
    occupant.listen(0, '127.0.0.1');
    await once(occupant, 'listening');
    onCleanup(() => new Promise<void>((done) => occupant.close(() => done())));
    const busy = (occupant.address() as AddressInfo).port;

    const { code, stdout, stderr } = await runCli([FIXTURE_SITE, '--port', String(busy)]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expectOneLineError(stderr, `port ${busy} is already in use`);
  });

  it('--bind 10.255.255.1 (not an address of this machine) → exit 1, "address not available"', async () => {
    const { code, stderr } = await runCli([FIXTURE_SITE, '--port', '0', '--bind', '10.255.255.1']);
    expect(code).toBe(1);
    expectOneLineError(stderr, /address not available: 10\.255\.255\.1/);
  });

  it(`--port 80 as an unprivileged user (${asRoot ? 'nobody, since tests run as root' : 'this user'}): permission denied, exit 1 — or served where the system lets anyone bind it`, async () => {
    const site = await tempDir();
    await chmod(site, 0o755);
    await writeFile(join(site, 'x.txt'), 'x');
    const cli = spawnCli([site, '--port', '80', '--quiet'], UNPRIVILEGED);
    if ((await unprivilegedPortStart()) > 80) {
      const exit = await cli.exited;
      expect(exit.code).toBe(1);
      expectOneLineError(cli.stderr(), 'permission denied to listen on port 80 (ports below 1024 need privileges)');
      return;
    }
    // Ports below 1024 are open to everyone here: port 80 is served, or already taken by another server.
    const outcome = await Promise.race([cli.waitForStdout(/http:\/\/localhost:80\b/).then(() => 'served'), cli.exited.then(() => 'exited')]);
    if (outcome === 'served') {
      expect((await request(80, '/x.txt')).text).toBe('x');
      expect((await stopCli(cli)).code).toBe(0);
    } else {
      expectOneLineError(cli.stderr(), 'port 80 is already in use');
    }
  });

  // Port 8000 is shared by everything on the machine (other test files, a developer's
  // `npm start`), so the default port is made busy only inside a network namespace
  // of the CLI's own; a module preloaded into the CLI's process occupies it there.
  it.runIf(hasNetworkNamespace)(
    `when the default port ${DEFAULT_PORT} is busy and --port was not given, the CLI moves on and says so (in a private network namespace)`,
    async () => {
      const dir = await tempDir();
      const occupy = join(dir, 'occupy-default-port.mjs');
      await writeFile(
        occupy,
        `import { createServer } from 'node:net';\n` +
          `await new Promise((listening) => createServer().listen(${DEFAULT_PORT}, '127.0.0.1', listening).unref());\n`,
      );
      const cli = spawnCli([FIXTURE_SITE], { wrapper: NETWORK_NAMESPACE, env: { NODE_OPTIONS: `--import=${occupy}` } });
      const [, port] = await cli.waitForStdout(/Local: +http:\/\/localhost:(\d+)/);
      expect(Number(port)).toBeGreaterThan(DEFAULT_PORT);
      await cli.waitForStdout(new RegExp(`Port ${DEFAULT_PORT} is in use; using ${port} instead\\.`));
      expect((await stopCli(cli)).code).toBe(0);
    },
  );
});
