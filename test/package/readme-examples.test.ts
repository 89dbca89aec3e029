/**
 * Every example of the README, run. A fenced block tagged `test` (```sh test, ```js test=name,
 * ```json test=name) is taken from the README as it stands and run against a real server in a
 * small project folder: each `sh` line as a CLI process (`npx serve-dir` is this repository's
 * launcher; the port becomes 0 and is read from the banner; a back end's port is replaced by
 * the port of one started here), each `js` block as a Node program that imports `serve-dir`
 * through node_modules (its `.listen(N)` becomes `.listen(0)`, and a preload reports the port),
 * each `json` block as the package.json scripts or config file it shows. Each example has a
 * check below saying what it promises; an example without one, or a check without its
 * example, fails. Blocks left untagged are install and npm-script commands, checked to name
 * scripts that exist, and the type declarations that readme.test.ts checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '../../src/tls/certificate.js';
import { cleanup, REPO_ROOT, request, settles, tempDir, writeTree, type RawResponse } from '../helpers/server.js';
import { fencedBlocks, shellCommands, type FencedBlock } from './readme-blocks.js';

const README = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
const BLOCKS = fencedBlocks(README);
const LAUNCHER = join(REPO_ROOT, 'bin', 'serve-dir.js');

// ------------------------------------------------------------------ processes

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), rejects if the process exits first. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cleanup();
});

function start(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Running {
  const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const text = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout') =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(text[stream]);
        if (match !== null) resolve(match);
        return match !== null;
      };
      if (check()) return;
      child[stream]!.on('data', check);
      void exited.then(() => check() || reject(new Error(`exited before printing ${pattern}\nstdout: ${text.stdout}\nstderr: ${text.stderr}`)));
    });
  return { child, stdout: () => text.stdout, stderr: () => text.stderr, waitFor, exited };
}

async function runToEnd(command: string, args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const running = start(command, args, cwd);
  const code = await running.exited;
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}


const HELP_TEXT = (await runToEnd(process.execPath, [LAUNCHER, '--help'], REPO_ROOT)).stdout;

// ------------------------------------------------------------------ the project the examples run in

/** A folder with what the examples name (public/, dist/, site/, static/, cert.pem …) and node_modules linking serve-dir and express. */
async function makeProject(): Promise<string> {
  const project = await tempDir('serve-dir-readme-');
  const page = (name: string) => `<!doctype html><html><head><title>${name}</title></head><body><h1>${name}</h1></body></html>\n`;
  await writeTree(project, {
    'index.html': page('project root'),
    'public/index.html': page('public folder'),
    'dist/index.html': page('the app shell'),
    'dist/assets/app.js': 'console.log("app");\n',
    'dist/docs/index.html': page('dist docs'),
    'site/index.html': `<!doctype html><html><head><link rel="stylesheet" href="style.css"></head><body><h1>site</h1></body></html>\n`,
    'site/style.css': 'body { color: black; }\n',
    'static/index.html': page('static front end'),
    'build/index.html': page('a build'),
    'build/assets/app.1234.js': 'console.log("built");\n',
  });
  const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
  await writeFile(join(project, 'cert.pem'), cert);
  await writeFile(join(project, 'key.pem'), key);
  await mkdir(join(project, 'node_modules'));
  await symlink(REPO_ROOT, join(project, 'node_modules', 'serve-dir'), 'dir');
  await symlink(join(REPO_ROOT, 'node_modules', 'express'), join(project, 'node_modules', 'express'), 'dir');
  // Reports the port of every server a program starts, for a program written to listen on a fixed one.
  await writeFile(
    join(project, 'report-port.mjs'),
    `import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  this.once('listening', () => process.stderr.write(\`listening on port \${this.address().port}\\n\`));
  return listen.apply(this, args);
};
`,
  );
  return project;
}

/**
 * A folder of its own for one example, inside the project (removed with it after all tests):
 * tempDir() would tie its removal to "the current test", which concurrent tests do not have.
 */
function scratchDir(project: string): Promise<string> {
  return mkdtemp(join(project, 'scratch-'));
}

/** A stand-in for a Flask or Django app: it answers with the path it was asked for. */
async function startBackEnd(): Promise<{ server: Server; port: number }> {
  const server = createServer((req: IncomingMessage, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ backEnd: true, path: req.url, host: req.headers.host }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function httpsGet(port: number, path: string): Promise<{ status: number; text: string; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: 'localhost', headers: { host: `localhost:${port}` }, rejectUnauthorized: false }, (res) => {
      const fingerprint256 = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, fingerprint256 }));
    });
    req.on('error', reject);
    req.end();
  });
}

// ------------------------------------------------------------------ running an example

interface Cli extends Running {
  port: number;
  scheme: string;
  project: string;
}

/** A README command line as a CLI process on a free port, started in `project`. */
async function startCommand(line: string, project: string, env: Record<string, string> = {}): Promise<Cli> {
  const words = line.split(/\s+/);
  const variables: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    variables[name!] = value.join('=');
  }
  const program = words[0] === 'npx' ? words.slice(1) : words;
  expect(program[0], line).toBe('serve-dir');
  const running = start(process.execPath, [LAUNCHER, ...program.slice(1), '--port', '0'], project, { ...env, ...variables });
  const [, scheme, port] = await running.waitFor(/\b(https?):\/\/localhost:(\d+)/);
  return { ...running, scheme: scheme!, port: Number(port), project };
}

/** A README program, written to `file` in `project`, run with the preload that reports its ports. */
function startProgram(project: string, file: string): Running {
  return start(process.execPath, ['--import', pathToFileURL(join(project, 'report-port.mjs')).href, join(project, file)], project, {});
}

const navigation = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

/** What each command line of a `sh test` block promises. */
const COMMANDS: Record<string, (line: string, project: string) => Promise<void>> = {
  'npx serve-dir .': async (line, project) => {
    const cli = await startCommand(line, project);
    expect((await request(cli.port, '/')).text).toContain('project root');
  },
  'npx serve-dir': async (line, project) => {
    const cli = await startCommand(line, project);
    expect(cli.stdout()).toMatch(/Local: +http:\/\/localhost:\d+/);
    const response = await request(cli.port, '/');
    expect(response.status).toBe(200);
    expect(response.text).toContain('project root');
  },
  'npx serve-dir public --open': async (line, project) => {
    const opened = join(await scratchDir(project), 'opened.txt');
    const recorder = join(await scratchDir(project), 'browser.cjs');
    await writeFile(recorder, `require('node:fs').writeFileSync(${JSON.stringify(opened)}, process.argv[2]);\n`);
    const cli = await startCommand(line, project, { BROWSER: `${process.execPath} ${recorder} %s` });
    expect((await request(cli.port, '/')).text).toContain('public folder');
    await settles(async () => (await readFile(opened, 'utf8').catch(() => '')) !== '', 10_000);
    expect(await readFile(opened, 'utf8')).toBe(`http://localhost:${cli.port}/`);
  },
  'npx serve-dir dist --spa': async (line, project) => {
    const cli = await startCommand(line, project);
    const route = await request(cli.port, '/dashboard/settings', { headers: navigation });
    expect(route.status).toBe(200);
    expect(route.text).toContain('the app shell');
    expect((await request(cli.port, '/app.js', { headers: { accept: '*/*' } })).status).toBe(404);
  },
  'npx serve-dir site --watch': async (line, project) => {
    const cli = await startCommand(line, project);
    expect(cli.stdout()).toContain('Live reload on');
    await checkLiveReload(cli, 'site/style.css', '/style.css');
  },
  'npx serve-dir static --watch --proxy /api=http://127.0.0.1:5000': async (line, project) => {
    const backEnd = await startBackEnd();
    try {
      expect(line).toContain(':5000');
      const cli = await startCommand(line.replace(':5000', `:${backEnd.port}`), project);
      const api = await request(cli.port, '/api/users?page=2');
      expect(api.status).toBe(200);
      // The prefix is kept: the app sees the path the browser asked for.
      expect(JSON.parse(api.text)).toMatchObject({ backEnd: true, path: '/api/users?page=2' });
      expect((await request(cli.port, '/')).text).toContain('static front end');
    } finally {
      backEnd.server.close();
    }
  },
  'npx serve-dir dist --https --bind 0.0.0.0 --qr': async (line, project) => {
    const cli = await startCommand(line, project, { XDG_CACHE_HOME: await scratchDir(project) });
    expect(cli.scheme).toBe('https');
    expect(cli.stdout()).toMatch(/Network: +https:\/\//);
    expect(cli.stdout()).toContain('█'); // the QR code
    const response = await httpsGet(cli.port, '/');
    expect(response.status).toBe(200);
    expect(response.text).toContain('the app shell');
  },
  'serve-dir dist --tls-cert cert.pem --tls-key key.pem': async (line, project) => {
    const cli = await startCommand(line, project);
    const response = await httpsGet(cli.port, '/');
    expect(response.status).toBe(200);
    expect(response.fingerprint256).toBe(new X509Certificate(await readFile(join(project, 'cert.pem'))).fingerprint256);
  },
  'serve-dir dist --https': async (line, project) => {
    const cache = await scratchDir(project);
    const cli = await startCommand(line, project, { XDG_CACHE_HOME: cache });
    const response = await httpsGet(cli.port, '/');
    expect(response.status).toBe(200);
    expect(response.fingerprint256).toBe(new X509Certificate(await readFile(join(cache, 'serve-dir', 'certificate.pem'))).fingerprint256);
  },
};

/** A change to `file` reaches an open page: the event stream names `urlPath`. */
async function checkLiveReload(cli: Cli, file: string, urlPath: string): Promise<void> {
  const page = await request(cli.port, '/');
  expect(page.text).toContain('/__serve-dir/');
  await cli.waitFor(/watching for changes/);
  const response = await fetch(`http://127.0.0.1:${cli.port}/__serve-dir/events`, { headers: { host: 'localhost' } });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  await writeFile(join(cli.project, file), `/* changed ${Date.now()} */\n`);
  let received = '';
  while (!received.includes(urlPath)) {
    const { value, done } = await reader.read();
    if (done) break;
    received += value;
  }
  await reader.cancel();
  expect(received).toContain(urlPath);
}

/** What each named `js` or `json` block promises. */
const NAMED: Record<string, (block: FencedBlock, project: string) => Promise<void>> = {
  'npm-scripts': async (block, project) => {
    const scripts = (JSON.parse(block.code) as { scripts: Record<string, string> }).scripts;
    expect(Object.keys(scripts)).toEqual(['dev', 'preview']);
    const dev = await startCommand(scripts.dev!, project);
    expect(dev.stdout()).toContain('Live reload on');
    await checkLiveReload(dev, 'site/style.css', '/style.css');
    const preview = await startCommand(scripts.preview!, project);
    expect((await request(preview.port, '/assets/app.js')).headers['cache-control']).toBe('public, max-age=3600');
    // HTML pages are still revalidated, so a new build shows at once.
    const route = await request(preview.port, '/settings', { headers: navigation });
    expect(route.text).toContain('the app shell');
    expect(route.headers['cache-control']).toBe('no-cache');
  },
  config: async (block, project) => {
    const folder = await scratchDir(project);
    await writeTree(folder, { 'serve-dir.config.json': block.code, 'dist/docs/index.html': 'docs page\n', 'dist/debug.log': 'log\n' });
    await symlink(join(project, 'node_modules'), join(folder, 'node_modules'), 'dir');
    const config = JSON.parse(block.code) as { $schema: string; port: number };
    // The schema the file names is the one the package ships.
    expect(JSON.parse(await readFile(join(folder, config.$schema), 'utf8'))).toHaveProperty('properties.directory');
    const opened = join(folder, 'opened.txt');
    await writeFile(join(folder, 'browser.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(opened)}, process.argv[2]);\n`);
    // --port 0 on the command line wins over the file's port (which might be taken here).
    const cli = await startCommand('serve-dir', folder, { BROWSER: `${process.execPath} ${join(folder, 'browser.cjs')} %s` });
    expect(cli.port).not.toBe(config.port);
    expect(cli.stdout()).toContain('Live reload on');
    expect((await request(cli.port, '/docs/')).text).toContain('docs page');
    await settles(async () => (await readFile(opened, 'utf8').catch(() => '')) !== '', 10_000);
    expect(await readFile(opened, 'utf8')).toBe(`http://localhost:${cli.port}/docs/`);
  },
  'proxy-routes': async (block, project) => {
    const [api, auth] = [await startBackEnd(), await startBackEnd()];
    try {
      const code = block.code.replace('127.0.0.1:5000', `127.0.0.1:${api.port}`).replace('127.0.0.1:8000', `127.0.0.1:${auth.port}`);
      expect(code).not.toBe(block.code);
      const folder = await scratchDir(project);
      await writeTree(folder, { 'serve-dir.config.json': code, 'index.html': 'front\n' });
      const cli = await startCommand('serve-dir', folder);
      expect(JSON.parse((await request(cli.port, '/api/users?page=2')).text)).toMatchObject({ path: '/api/users?page=2' });
      // changeOrigin: the app's own host; rewrite: the prefix stripped.
      expect(JSON.parse((await request(cli.port, '/auth/login')).text)).toMatchObject({ path: '/login', host: `127.0.0.1:${auth.port}` });
      expect((await request(cli.port, '/')).text).toBe('front\n');
    } finally {
      api.server.close();
      auth.server.close();
    }
  },
  headers: async (block, project) => {
    const folder = await scratchDir(project);
    await writeTree(folder, { 'serve-dir.config.json': block.code, 'index.html': 'page\n', 'assets/app.js': 'app\n', 'other.js': 'other\n' });
    const cli = await startCommand('serve-dir --cache 60', folder);
    expect((await request(cli.port, '/assets/app.js')).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await request(cli.port, '/other.js')).headers['cache-control']).toBe('public, max-age=60');
    expect((await request(cli.port, '/')).headers['cache-control']).toBe('no-cache');
  },
  express: async (block, project) => {
    await writeFile(join(project, 'express-app.mjs'), block.code.replace(/\.listen\(\d+\)/g, '.listen(0)'));
    expect(block.code).toMatch(/\.listen\(\d+\)/);
    const app = startProgram(project, 'express-app.mjs');
    const port = Number((await app.waitFor(/listening on port (\d+)/, 'stderr'))[1]);
    const api = await request(port, '/api/hello');
    expect(JSON.parse(api.text)).toEqual({ hello: 'world' });
    expect((await request(port, '/')).text).toContain('public folder');
    const missing = await request(port, '/nothing-here.txt');
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('Not found here either');
    // Other methods fall through too.
    expect((await request(port, '/index.html', { method: 'POST', headers: { 'content-length': '0' } })).text).toBe('Not found here either');
  },
  'node-http': async (block, project) => {
    await writeFile(join(project, 'node-http.mjs'), block.code.replace(/\.listen\(\d+\)/g, '.listen(0)'));
    const program = startProgram(project, 'node-http.mjs');
    const port = Number((await program.waitFor(/listening on port (\d+)/, 'stderr'))[1]);
    expect((await request(port, '/')).text).toContain('public folder');
  },
  commonjs: async (block, project) => {
    await writeFile(join(project, 'commonjs.cjs'), block.code.replace(/\.listen\(\d+\)/g, '.listen(0)'));
    const program = startProgram(project, 'commonjs.cjs');
    const port = Number((await program.waitFor(/listening on port (\d+)/, 'stderr'))[1]);
    const response: RawResponse = await request(port, '/');
    expect(response.text).toContain('public folder');
    expect(response.headers['access-control-allow-origin']).toBe('*');
  },
  'start-server': async (block, project) => {
    await writeFile(join(project, 'start-server.mjs'), block.code);
    const program = startProgram(project, 'start-server.mjs');
    expect(await program.exited).toBe(0);
    expect(program.stdout()).toMatch(/^200 http:\/\/localhost:\d+\n$/);
  },
  events: async (block, project) => {
    await writeFile(join(project, 'events.mjs'), block.code);
    const program = startProgram(project, 'events.mjs');
    expect(await program.exited).toBe(0);
    const size = (await readFile(join(project, 'public', 'index.html'))).length;
    expect(program.stdout()).toBe(`200 GET /index.html ${size} B\n`);
    expect(program.stderr().replace(/^listening on port \d+\n/gm, '')).toBe('');
  },
};

/** What each example of `serve-dir --help` promises. */
const HELP_EXAMPLES: Record<string, (line: string, project: string) => Promise<void>> = {
  'serve-dir dist --spa --watch': async (line, project) => {
    const cli = await startCommand(line, project);
    const route = await request(cli.port, '/some/route', { headers: navigation });
    expect(route.text).toContain('the app shell');
    expect(route.text).toContain('/__serve-dir/');
  },
  'serve-dir build --cache 31536000 --immutable': async (line, project) => {
    const cli = await startCommand(line, project);
    expect((await request(cli.port, '/assets/app.1234.js')).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await request(cli.port, '/')).headers['cache-control']).toBe('no-cache');
  },
  'serve-dir --port 0 --json': async (line, project) => {
    const cli = await startCommand(line, project);
    const first = JSON.parse(cli.stdout().split('\n')[0]!) as { event: string; port: number };
    expect(first).toMatchObject({ event: 'listening', port: cli.port });
  },
  'SERVE_DIR_AUTH=me:pw serve-dir -b 0.0.0.0 --qr': async (line, project) => {
    const cli = await startCommand(line, project);
    expect(cli.stdout()).toContain('█');
    expect((await request(cli.port, '/')).status).toBe(401);
    const response = await request(cli.port, '/', { headers: { authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` } });
    expect(response.status).toBe(200);
  },
};

// ------------------------------------------------------------------ the tests

describe('the README examples', () => {
  let project: string;
  const tested = BLOCKS.filter((block) => block.test);
  const commandLines = tested.filter((block) => block.lang === 'sh').flatMap((block) => shellCommands(block.code));
  const named = tested.filter((block) => block.lang !== 'sh');

  beforeAll(async () => {
    project = await makeProject();
  });

  it('each has a check here, and each check its example', () => {
    expect(commandLines.sort()).toEqual(Object.keys(COMMANDS).sort());
    expect(named.map((block) => block.name).sort()).toEqual(Object.keys(NAMED).sort());
    expect(new Set(commandLines).size).toBe(commandLines.length);
  });

  it('leave untested only install and npm-script commands that exist, the synopsis, and the declarations', async () => {
    const scripts = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const block of BLOCKS.filter((candidate) => !candidate.test)) {
      const where = `README line ${block.line}`;
      if (block.lang === 'ts') continue; // readme.test.ts compares them with src/
      if (block.lang === '') {
        expect(block.code, where).toBe('serve-dir [dir] [options]\n');
        continue;
      }
      expect(block.lang, where).toBe('sh');
      for (const command of shellCommands(block.code)) {
        for (const part of command.split(' && ')) {
          const script = /^npm (?:run (\S+)|(test|start))(?: --.*)?$/.exec(part);
          if (script !== null) expect(scripts, `${where}: ${part}`).toHaveProperty([script[1] ?? script[2]!]);
          else expect(part, where).toMatch(/^npm (i|install)( -D)?( serve-dir)?$/);
        }
      }
    }
  });

  const helpExamples = HELP_TEXT.split('Examples:')[1]!
    .split('\n')
    .map((line) => /^ {2}\$ (.+?)(?: {2,}.*)?$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);

  it('--help has an example of its own for each check here', () => {
    expect(helpExamples.sort()).toEqual(Object.keys(HELP_EXAMPLES).sort());
  });

  describe.concurrent('run', () => {
    for (const line of helpExamples) {
      it.skipIf(HELP_EXAMPLES[line] === undefined)(`--help: ${line}`, async () => {
        await HELP_EXAMPLES[line]!(line, project);
      });
    }
    for (const line of commandLines) {
      const check = COMMANDS[line];
      it.skipIf(check === undefined)(line, async () => {
        await check!(line, project);
      });
    }
    for (const block of named) {
      const check = NAMED[block.name ?? ''];
      it.skipIf(check === undefined)(`${block.lang} block "${block.name}" (README line ${block.line})`, async () => {
        await check!(block, project);
      });
    }
  });
});
