// The servers the benchmark knows, and how each is started. Every one is spawned directly
// (node, nginx, python: never through a shell or npm), so that the pid measured is the server's.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findPeer } from './peers.js';
import { writeNginxConfig } from './nginx.js';
import { findExecutable, packageVersion } from './system.js';

/**
 * @typedef {object} ServerContext
 * @property {string} root             the corpus
 * @property {string} repoDir          this repository (serve-dir runs from here)
 * @property {string} peersDir         where the Node peers are installed
 * @property {string} serveDirCommand  serve-dir's command line, with {ROOT} and {PORT} placeholders
 * @property {string} workDir          a temporary directory for configs
 * @property {number} mediumSize       size of medium.js, for the in-memory reference server
 *
 * @typedef {object} Launch
 * @property {string} command
 * @property {string[]} args
 * @property {NodeJS.ProcessEnv} [env]
 * @property {string} [cwd]
 *
 * @typedef {object} Prepared
 * @property {string} version
 * @property {(port: number) => Launch} launch
 *
 * @typedef {object} ServerSpec
 * @property {string} name                  as given to --only
 * @property {'reference' | 'serve-dir' | 'peer'} role
 * @property {string} [npmPackage]          a Node peer installed into the peers cache
 * @property {(context: ServerContext) => Prepared} prepare  throws Unavailable when it cannot run here
 */

/** The server cannot run on this machine (not installed); it is listed as such, not as a failure. */
export class Unavailable extends Error {}

export const DEFAULT_SERVE_DIR_COMMAND = 'node bin/serve-dir.js {ROOT} --port {PORT} --bind 127.0.0.1 --quiet';

/** @type {ServerSpec[]} */
export const SERVERS = [
  { name: 'node-http', role: 'reference', prepare: prepareNodeHttp },
  { name: 'serve-dir', role: 'serve-dir', prepare: (context) => prepareServeDir(context, []) },
  { name: 'serve-dir-watch', role: 'serve-dir', prepare: (context) => prepareServeDir(context, ['--watch']) },
  { name: 'nginx', role: 'peer', prepare: prepareNginx },
  nodePeer('sirv-cli', (root, port) => [root, '--host', '127.0.0.1', '--port', String(port), '--quiet']),
  nodePeer('http-server', (root, port) => [root, '-a', '127.0.0.1', '-p', String(port), '-s']),
  // serve checks the registry for a newer version before it listens, unless told not to;
  // without --no-port-switching it would move to another port when ours is taken.
  nodePeer('serve', (root, port) => ['-l', `tcp://127.0.0.1:${port}`, '--no-clipboard', '--no-port-switching', '-L', root], {
    NO_UPDATE_CHECK: '1',
  }),
  nodePeer('live-server', (root, port) => [root, '--host=127.0.0.1', `--port=${port}`, '--no-browser', '--quiet']),
  { name: 'python', role: 'peer', prepare: preparePython },
];

/**
 * A bare node:http server answering the two small files from memory: the floor for start-up
 * time and the ceiling for requests per second that any Node server can reach here.
 */
const NODE_HTTP_SCRIPT = `
const http = require('node:http');
const [port, mediumSize] = process.argv.slice(1).map(Number);
const bodies = { '/small.txt': Buffer.alloc(1024, 97), '/medium.js': Buffer.alloc(mediumSize, 97) };
http.createServer((req, res) => {
  const body = bodies[req.url];
  if (!body) { res.statusCode = 404; res.end(); return; }
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}).listen(port, '127.0.0.1');
`;

/** @param {ServerContext} context @returns {Prepared} */
function prepareNodeHttp(context) {
  return {
    version: process.version,
    launch: (port) => ({ command: process.execPath, args: ['-e', NODE_HTTP_SCRIPT, String(port), String(context.mediumSize)] }),
  };
}

/**
 * serve-dir from this repository, or whatever SERVE_DIR_CMD / --serve-dir-cmd says. The command
 * line is split on spaces (no shell, no quoting); a leading `node` is this very Node binary.
 * @param {ServerContext} context
 * @param {string[]} extraArgs
 * @returns {Prepared}
 */
function prepareServeDir(context, extraArgs) {
  return {
    version: packageVersion(context.repoDir),
    launch(port) {
      const words = context.serveDirCommand
        .split(/\s+/)
        .filter(Boolean)
        .map((word) => word.replaceAll('{ROOT}', context.root).replaceAll('{PORT}', String(port)));
      const [first = '', ...rest] = words;
      const command = first === 'node' ? process.execPath : first;
      return { command, args: [...rest, ...extraArgs], cwd: context.repoDir };
    },
  };
}

/** @param {ServerContext} context @returns {Prepared} */
function prepareNginx(context) {
  const nginx = findExecutable('nginx');
  if (!nginx) throw new Unavailable('nginx is not on PATH');
  const dir = join(context.workDir, 'nginx');
  return {
    version: versionOf(nginx, ['-v']).replace(/^nginx version:\s*nginx\//, ''),
    launch: (port) => ({ command: nginx, args: ['-e', join(dir, 'error.log'), '-c', writeNginxConfig(dir, context.root, port)] }),
  };
}

/**
 * Python's http.server, started with the interpreter's real path: `python3` on PATH may be a
 * shim script (pyenv) that would add its own start-up time and stand between us and the pid.
 * @returns {Prepared}
 */
function preparePython(/** @type {ServerContext} */ context) {
  const python3 = findExecutable('python3');
  if (!python3) throw new Unavailable('python3 is not on PATH');
  const [executable = '', version = ''] = versionOf(python3, ['-c', 'import sys, platform; print(sys.executable); print(platform.python_version())']).split('\n');
  if (!executable) throw new Unavailable(`${python3} does not run`);
  return {
    version,
    launch: (port) => ({ command: executable, args: ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', context.root] }),
  };
}

/**
 * @param {string} npmPackage
 * @param {(root: string, port: number) => string[]} argsFor
 * @param {NodeJS.ProcessEnv} [extraEnv]
 * @returns {ServerSpec}
 */
function nodePeer(npmPackage, argsFor, extraEnv = {}) {
  return {
    name: npmPackage,
    role: 'peer',
    npmPackage,
    prepare(context) {
      const peer = findPeer(context.peersDir, npmPackage);
      if (!peer) throw new Unavailable(`${npmPackage} is not installed in ${context.peersDir}`);
      return {
        version: peer.version,
        launch: (port) => ({ command: process.execPath, args: [peer.bin, ...argsFor(context.root, port)], env: { ...process.env, ...extraEnv } }),
      };
    },
  };
}

/**
 * What a program prints about itself (on stdout or stderr), trimmed.
 * @param {string} command
 * @param {string[]} args
 */
function versionOf(command, args) {
  const { stdout = '', stderr = '' } = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return (stdout || stderr).trim();
}
