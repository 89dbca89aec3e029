import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { AUTH_ENVIRONMENT_VARIABLE, authSetting } from './http/basic-auth.js';
import { colorsFor, describeError } from './log.js';
import { DEFAULT_BIND, DEFAULT_PORT, parsePort, parseSeconds, UsageError, type Options } from './options.js';
import { startServer, type RunningServer } from './server.js';
import { isLoopbackBind } from './stages/host.js';
import { terminalSafe } from './terminal-text.js';

const EXAMPLES = `
Examples:
  $ serve-dir                          serve the current folder on http://localhost:${DEFAULT_PORT}
  $ serve-dir dist --port 3000         serve ./dist on port 3000
  $ serve-dir site --watch             reload open pages when files change
  $ serve-dir --bind 0.0.0.0           let other devices on the network connect
  $ serve-dir build --cache 31536000 --immutable   long-lived caching for fingerprinted assets
  $ serve-dir dist --cors -H "Cross-Origin-Opener-Policy: same-origin"   CORS, and a header on every response
  $ SERVE_DIR_AUTH=me:secret serve-dir --bind 0.0.0.0   share on the network behind a password
`;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export function buildProgram(): Command {
  const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
  return new Command('serve-dir')
    .description('Serve a folder over HTTP: correct caching and ranges, safe defaults, optional live reload.')
    .argument('[dir]', 'directory to serve', undefined)
    .option('-d, --directory <dir>', 'directory to serve (same as [dir])')
    .option('-p, --port <n>', `port to listen on; 0 picks a free one (default: ${DEFAULT_PORT}, or the next free port)`)
    .option('-b, --bind <addr>', `address to bind; 0.0.0.0 or :: exposes the server to the network (default: ${DEFAULT_BIND})`)
    .addOption(new Option('--host <addr>', 'alias of --bind').conflicts('bind'))
    .option('-q, --quiet', 'do not log requests or live-reload changes (warnings still print)')
    .option('--no-listing', 'answer 404 for directories without an index file')
    .option('--index <name>', 'index file name tried for a folder, in order (repeatable; default: index.html, index.htm)', collect)
    .option('--no-index', 'no index files: folders are listed (or 404 with --no-listing)')
    .option('--no-redirect', 'answer 404 for a folder asked for without its trailing slash instead of redirecting')
    .option('--dotfiles', 'serve dotfiles and dot-directories (hidden by default)')
    .option('--cache <seconds>', 'Cache-Control max-age for files other than HTML pages (default: no-cache, revalidate every time)')
    .option('--immutable', 'add "immutable" to Cache-Control (needs --cache; for fingerprinted assets)')
    .option('--no-compress', 'do not compress responses or serve .br/.gz sidecars')
    .option('-w, --watch', 'watch the directory and live-reload open pages on change')
    .option('--ignore <glob>', 'with --watch, also ignore these paths, .gitignore-style (repeatable; .git and node_modules always, hidden folders unless --dotfiles)', collect)
    .option('--poll', 'with --watch, poll for changes (network drives, WSL, containers)')
    .option('--allowed-host <name>', 'accept this Host name besides localhost while bound to loopback (repeatable)', collect)
    .option('--cache-memory <MiB>', 'memory for cached file contents, compressed variants and listings, in MiB (default: 64)')
    .option('--cors', 'Access-Control-Allow-Origin: * on every response, and answer CORS preflights')
    .option('-H, --header <"Name: value">', 'add this header to every response, replacing a built-in one of the same name (repeatable)', collect)
    .option('--auth <user:password>', `require HTTP Basic authentication (or set ${AUTH_ENVIRONMENT_VARIABLE}, which stays out of shell history)`)
    .version(version(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
}

interface ParsedFlags {
  directory?: string;
  port?: string;
  bind?: string;
  host?: string;
  quiet?: boolean;
  listing: boolean;
  index: string[] | false | undefined;
  redirect: boolean;
  dotfiles?: boolean;
  cache?: string;
  immutable?: boolean;
  compress: boolean;
  watch?: boolean;
  ignore?: string[];
  poll?: boolean;
  allowedHost?: string[];
  cacheMemory?: string;
  cors?: boolean;
  header?: string[];
  auth?: string;
}

/** Turn parsed flags into library options, or throw a UsageError naming the bad flag. */
export function optionsFromFlags(dir: string | undefined, flags: ParsedFlags): Options {
  if (dir !== undefined && flags.directory !== undefined && dir !== flags.directory) {
    throw new UsageError(`two directories given: "${dir}" and --directory "${flags.directory}"`);
  }
  let cacheMemory: number | undefined;
  if (flags.cacheMemory !== undefined) {
    const mib = Number(flags.cacheMemory);
    if (!/^\d+$/.test(flags.cacheMemory.trim()) || !Number.isSafeInteger(mib * 1024 * 1024)) {
      throw new UsageError(`invalid --cache-memory "${flags.cacheMemory}": expected a whole number of MiB`);
    }
    cacheMemory = mib * 1024 * 1024;
  }
  return {
    directory: dir ?? flags.directory ?? '.',
    port: flags.port === undefined ? undefined : parsePort(flags.port),
    strictPort: flags.port !== undefined,
    bind: flags.bind ?? flags.host,
    quiet: flags.quiet ?? false,
    listing: flags.listing,
    index: flags.index,
    redirect: flags.redirect,
    dotfiles: flags.dotfiles ?? false,
    cache: flags.cache === undefined ? undefined : parseSeconds(flags.cache, '--cache'),
    immutable: flags.immutable ?? false,
    compress: flags.compress,
    watch: flags.watch ?? false,
    ignore: flags.ignore ?? [],
    poll: flags.poll ?? false,
    allowedHost: flags.allowedHost ?? [],
    cacheMemory,
    cors: flags.cors ?? false,
    header: flags.header ?? [],
    auth: authSetting(flags.auth, process.env),
  };
}

function banner(running: RunningServer, requestedPort: number | undefined): string {
  const c = colorsFor();
  const { options } = running.handler;
  const shown = relative(process.cwd(), options.root) || '.';
  // The folder's name is whatever someone called it (an unpacked archive, a clone).
  const folder = terminalSafe(shown.startsWith('..') ? options.root : shown);
  const lines = ['', `  ${c.bold(c.green('serve-dir'))} serving ${c.bold(folder)}`, ''];
  for (const url of running.urls.local) lines.push(`  ${c.dim('Local:  ')} ${c.cyan(url)}`);
  for (const url of running.urls.network) lines.push(`  ${c.dim('Network:')} ${c.cyan(url)}`);
  if (running.urls.network.length === 0 && (options.bind === '0.0.0.0' || options.bind === '::')) {
    lines.push(`  ${c.dim('Network:')} no external network interface found`);
  }
  lines.push('');
  const wanted = requestedPort ?? options.port;
  if (wanted !== 0 && running.port !== wanted) lines.push(`  ${c.yellow(`Port ${wanted} is in use; using ${running.port} instead.`)}`);
  if (options.auth === undefined && !isLoopbackBind(options.bind)) {
    lines.push(`  ${c.yellow('Anyone on your network can read these files;')} add --auth user:password to require a password.`);
  }
  if (options.watch) lines.push(`  ${c.magenta('Live reload on:')} open pages reload when files change.`);
  lines.push(`  ${c.dim('Press Ctrl+C to stop.')}`, '');
  return lines.join('\n');
}

/** Entry point of bin/serve-dir.js. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({
    writeErr: (text) => process.stderr.write(text),
    // One line, always: commander puts its "(Did you mean --port?)" on a line of its own.
    // It quotes the arguments, which may be file names a shell glob expanded.
    outputError: (text, write) => write(`serve-dir: ${terminalSafe(text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' '))}\n`),
  });
  let running: RunningServer;
  try {
    program.parse([...argv]);
    const options = optionsFromFlags(program.args[0], program.opts<ParsedFlags>());
    running = await startServer(options);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof UsageError) {
      // Messages name the folder and the address as given: made safe like any path.
      process.stderr.write(`serve-dir: ${terminalSafe(error.message)}\n`);
      process.exitCode = 1;
      return;
    }
    // Our own bug: its stack is printed, but its message may name the folder given.
    process.stderr.write(`serve-dir: ${describeError(error)}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130); // a second Ctrl+C means now
    stopping = true;
    running.close(2000).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Only now: whoever reads the URL may stop us at once, and must get a graceful stop.
  console.log(banner(running, program.opts<ParsedFlags>().port === undefined ? undefined : running.handler.options.port));
}
