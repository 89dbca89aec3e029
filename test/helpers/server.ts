/**
 * Shared utilities for behaviour tests over real sockets, files and processes:
 * in-process servers, exact-bytes requests, temp trees, the CLI, and cleanup.
 * Whatever these helpers start or create inside a test is undone when that test
 * finishes; whatever they make in beforeAll is undone by `cleanup()` (call it
 * from afterAll).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { onTestFinished } from 'vitest';
import { startServer, type Options, type RunningServer } from '../../src/index.js';

/** The repository's root directory (where bin/ and fixtures/ live). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The demo site that `npm start` serves. */
export const FIXTURE_SITE = join(REPO_ROOT, 'fixtures', 'site');

// ---------------------------------------------------------------- cleanup

const cleanups: (() => Promise<void> | void)[] = [];

/** Undo `work` when the current test finishes, or at `cleanup()` outside a test (last registered runs first). */
export function onCleanup(work: () => Promise<void> | void): void {
  try {
    onTestFinished(async () => {
      await work();
    });
  } catch {
    // Not inside a test (beforeAll, module scope): keep it for cleanup().
    cleanups.push(work);
  }
}

/** Undo what was made outside tests (servers, CLI processes, temp trees): call from afterAll. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}

// ---------------------------------------------------------------- servers

/** `startServer` on a free port, quiet unless `options` says otherwise; closed at the end of the test (or by `cleanup()`). */
export async function serveDirectory(directory: string, options: Options = {}): Promise<RunningServer> {
  const running = await startServer({ quiet: true, ...options, directory, port: options.port ?? 0 });
  onCleanup(() => running.close(0));
  return running;
}

/** Resolves when the next response the server starts has finished or been aborted (its 'close' event). */
export function nextResponseClosed(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.once('request', (_req, res) => res.once('close', () => resolve()));
  });
}

// ---------------------------------------------------------------- raw HTTP

/** A response as read off the socket. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Header names in the order received, as sent (for comparing header sets). */
  headerNames: string[];
  /** The body as received (chunked framing removed); empty for HEAD, 204 and 304. */
  body: Buffer;
  /** The body decoded as UTF-8. */
  text: string;
}

/** Send exactly `bytes` (a string goes out as latin1, one byte a char) on a new connection; resolve every byte received until it closes. */
export function exchange(port: number, bytes: string | Buffer, host = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

/** Parse one HTTP/1.1 response (status line, headers, body with chunked framing removed). */
export function parseResponse(bytes: Buffer): RawResponse {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no complete response head in ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  const headerNames: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    headerNames.push(name);
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const rest = bytes.subarray(headEnd + 4);
  // A HEAD answer may announce chunked framing and still, rightly, carry no body.
  const body = rest.length > 0 && /\bchunked\b/i.test(headers['transfer-encoding'] ?? '') ? dechunk(rest) : rest;
  return { status, headers, headerNames, body, text: body.toString('utf8') };
}

/** A response's headers without Date (which differs from one response to the next). */
export function headersExceptDate(response: RawResponse): Record<string, string> {
  const { date: _date, ...rest } = response.headers;
  return rest;
}

function dechunk(bytes: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd === -1) throw new Error('truncated chunked body');
    const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(pieces);
    pieces.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** How `request` writes its request. */
export interface RequestOptions {
  method?: string;
  /** Extra request headers, written as given. */
  headers?: Record<string, string>;
  /** Host header; default `localhost`. */
  hostHeader?: string;
  /** Address to connect to; default 127.0.0.1. */
  address?: string;
}

/** One request with `target` written verbatim on the request line (never normalised or re-encoded), then `Connection: close`. */
export async function request(port: number, target: string, options: RequestOptions = {}): Promise<RawResponse> {
  const lines = [`${options.method ?? 'GET'} ${target} HTTP/1.1`, `Host: ${options.hostHeader ?? 'localhost'}`];
  for (const [name, value] of Object.entries(options.headers ?? {})) lines.push(`${name}: ${value}`);
  lines.push('Connection: close', '', '');
  return parseResponse(await exchange(port, Buffer.from(lines.join('\r\n'), 'utf8'), options.address));
}

// ---------------------------------------------------------------- files

/** A fresh temp directory (its real path: the server compares real paths), removed at the end of the test (or by `cleanup()`). */
export async function tempDir(prefix = 'serve-dir-test-'): Promise<string> {
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  onCleanup(() => rm(path, { recursive: true, force: true }));
  return path;
}

/** Files and folders to create: 'a/b.txt' → contents; a key ending in '/' makes an (empty) folder. */
export type Tree = Record<string, string | Buffer>;

/** Create `tree` under `root`, parent folders included. */
export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [relativePath, contents] of Object.entries(tree)) {
    const path = join(root, relativePath);
    if (relativePath.endsWith('/')) {
      await mkdir(path, { recursive: true });
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, contents);
    }
  }
}

/** What each open file descriptor of a process points to (Linux /proc): paths, 'socket:[…]', 'pipe:[…]'. */
export async function openFileTargets(pid = process.pid): Promise<string[]> {
  const directory = `/proc/${pid}/fd`;
  const targets = await Promise.all(
    (await readdir(directory)).map((fd) => readlink(join(directory, fd)).catch(() => '')), // closed meanwhile
  );
  return targets.filter((target) => target !== '');
}

/**
 * Run a full garbage collection and report the file descriptors it closed: Node
 * closes a FileHandle nobody closed when it is collected, with a warning ("Closing
 * file descriptor N on garbage collection"). Any such warning is a leaked handle;
 * collecting first makes the leak show whenever the handle is unreachable, instead
 * of whenever V8 happens to collect.
 */
export async function descriptorsClosedByGarbageCollection(): Promise<string[]> {
  const closed: string[] = [];
  const listener = (warning: Error) => {
    if (/on garbage collection/.test(warning.message)) closed.push(warning.message);
  };
  process.on('warning', listener);
  try {
    // Workers run without --expose-gc; the flag can still be set, and gc() taken from a fresh context.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    // The warnings are emitted on a later tick, after the finalizers ran.
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('warning', listener);
  }
  return closed;
}

/**
 * Send `requestText` on a raw socket, and as soon as the first bytes of the answer
 * arrive, report whether `path` is open in this process, then drop the connection
 * mid-download.
 */
export function isOpenWhenAbortingDownload(port: number, requestText: string, path: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.write(requestText);
    socket.once('data', async () => {
      socket.pause();
      const open = (await openFileTargets()).includes(path);
      socket.destroy();
      resolve(open);
    });
  });
}

/**
 * Re-check `condition` every 10 ms until it holds, failing after `timeoutMs`: only
 * for state that settles shortly after an awaited event (a descriptor closed on
 * libuv's thread pool), never instead of awaiting the event itself.
 */
export async function settles(condition: () => Promise<boolean> | boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---------------------------------------------------------------- the CLI

/** How `spawnCli` runs the CLI. */
export interface CliOptions {
  /** Added to the environment; NO_COLOR=1 is set unless overridden (a value of undefined removes a variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run as this user and group (tests running as root use it to act as an unprivileged user). */
  uid?: number;
  gid?: number;
  /** Run the CLI through this command (e.g. ['unshare', '-rn', ...]); the node command line is appended. */
  wrapper?: string[];
  /** The launcher to run instead of this repository's bin/serve-dir.js (an installed copy). */
  launcher?: string;
}

/** How a CLI process ended. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running CLI process and what it has printed. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout has matched `pattern` (at once if it already has); rejects if the process exits first. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited and its output is complete. */
  exited: Promise<CliExit>;
}

/** Spawn `node bin/serve-dir.js ...args` from the built dist/ (killed at the end of the test, or by `cleanup()`, if still running). */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const command = [...(options.wrapper ?? []), process.execPath, options.launcher ?? join(REPO_ROOT, 'bin', 'serve-dir.js'), ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit') waits for the output streams to end.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited.catch(() => undefined);
  });
  const waitForStdout = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(stdout);
        if (match === null) return false;
        child.stdout!.off('data', check);
        resolve(match);
        return true;
      };
      if (check()) return;
      child.stdout!.on('data', check);
      exited.then(
        () => check() || reject(new Error(`exited before printing ${pattern}; stdout: ${stdout} stderr: ${stderr}`)),
        reject,
      );
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitForStdout, exited };
}

/** Run the CLI to completion: its exit code and whole output. */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliExit & { stdout: string; stderr: string }> {
  const cli = spawnCli(args, options);
  const exit = await cli.exited;
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** A CLI process whose banner has shown its URL. */
export interface StartedCli extends CliProcess {
  /** The first URL of the banner, e.g. http://localhost:41234. */
  url: string;
  port: number;
}

/** Spawn the CLI and resolve once its banner shows a URL (it waits for the event, never a fixed time). */
export async function startCli(args: readonly string[], options: CliOptions = {}): Promise<StartedCli> {
  const cli = spawnCli(args, options);
  const [url, port] = await cli.waitForStdout(/(http:\/\/\S+:(\d+))/).then((match) => [match[1]!, Number(match[2])] as const);
  return { ...cli, url, port };
}

/** Send a signal and resolve the exit with how long it took. */
export async function stopCli(cli: CliProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<CliExit & { ms: number }> {
  const start = performance.now();
  cli.child.kill(signal);
  const exit = await cli.exited;
  return { ...exit, ms: performance.now() - start };
}

/**
 * A `--require` preload for a CLI process whose disk fails on names holding `boom`: the file
 * cache's lstat and stat throw EIO with the path in the message, as Node's own errors do.
 * Anything but a miss or a refusal is our 500. Pass it as NODE_OPTIONS=--require <path>.
 */
export async function failingDiskPreload(): Promise<string> {
  const preload = join(await tempDir(), 'failing-disk.cjs');
  await writeFile(
    preload,
    `const fs = require('node:fs');
for (const name of ['statSync', 'lstatSync']) {
  const original = fs[name];
  fs[name] = function (path, ...rest) {
    if (String(path).includes('boom')) throw Object.assign(new Error(\`EIO: i/o error, stat '\${path}'\`), { code: 'EIO', syscall: 'stat', path: String(path) });
    return original.call(this, path, ...rest);
  };
}
`,
  );
  return preload;
}
