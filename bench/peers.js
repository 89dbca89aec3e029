// The Node peers live in a cache folder of their own (never in this package's dependencies),
// installed there with npm on first use.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from './children.js';

const INSTALL_TIMEOUT_MS = 5 * 60_000;

/**
 * @param {string} peersDir
 * @param {string} name
 */
const packageDir = (peersDir, name) => join(peersDir, 'node_modules', name);

/**
 * Installs the packages that are not in the cache yet: all in one npm run, and one by one if
 * that fails, so that one package that does not install does not keep the others out.
 * @param {string} peersDir
 * @param {string[]} names
 * @param {{ log: (message: string) => void, signal: AbortSignal }} context
 */
export async function installMissingPeers(peersDir, names, { log, signal }) {
  const missing = names.filter((name) => !existsSync(packageDir(peersDir, name)));
  if (missing.length === 0) return;
  log(`installing ${missing.join(', ')} into ${peersDir}`);
  if (await npmInstall(peersDir, missing, signal)) return;
  for (const name of missing) {
    if (!(await npmInstall(peersDir, [name], signal))) log(`npm could not install ${name}`);
  }
}

/**
 * @param {string} peersDir
 * @param {string[]} names
 * @param {AbortSignal} signal
 */
async function npmInstall(peersDir, names, signal) {
  const args = ['install', '--prefix', peersDir, '--no-audit', '--no-fund', '--loglevel=error', ...names];
  try {
    const { code } = await runToEnd('npm', args, { signal, timeoutMs: INSTALL_TIMEOUT_MS, env: withoutNpmRunVariables() });
    return code === 0;
  } catch {
    signal.throwIfAborted();
    return false;
  }
}

/**
 * `npm run bench` passes its own configuration down as npm_* variables; the install into the
 * cache must not inherit this package's settings.
 */
function withoutNpmRunVariables() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
}

/**
 * The installed package's version and the script its `bin` field names, or undefined when missing.
 * @param {string} peersDir
 * @param {string} name
 * @returns {{ version: string, bin: string } | undefined}
 */
export function findPeer(peersDir, name) {
  const dir = packageDir(peersDir, name);
  if (!existsSync(join(dir, 'package.json'))) return undefined;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : Object.values(manifest.bin ?? {})[0];
  if (typeof bin !== 'string') return undefined;
  return { version: manifest.version, bin: join(dir, bin) };
}
