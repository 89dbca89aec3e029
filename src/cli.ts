import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { suggestFlag } from './flag-suggestion.js';
import { CONFIG_FILE_NAME, ConfigError, loadConfig, mergeWithFlags, parseProxyFlag, type ConfigOptions, type LoadedConfig } from './config.js';
import type { ListeningEvent, ServerEvent, WarningEvent } from './events.js';
import { colorsFor, describeError, formatEvent, isProblem, jsonLine } from './log.js';
import { openBrowser, openerFor } from './open-browser.js';
import { AUTH_ENVIRONMENT_VARIABLE, authSetting } from './http/basic-auth.js';
import { trustCommand } from './tls/trust.js';
import { DEFAULT_BIND, DEFAULT_PORT, parsePort, parseSeconds, UsageError, type Options } from './options.js';
import { startServer, type RunningServer } from './server.js';
import { isLoopbackBind } from './stages/host.js';
import { terminalSafe } from './terminal-text.js';

const EXAMPLES = `
Examples:
  $ serve-dir dist --spa --watch            an app, reloading on save
  $ serve-dir build --cache 31536000 --immutable   assets cached for a year
  $ serve-dir --port 0 --json               JSON lines; the first has the port
  $ SERVE_DIR_AUTH=me:pw serve-dir -b 0.0.0.0 --qr   on a phone, with a password

Each flag is also a key of ${CONFIG_FILE_NAME}; the README has more.
`;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export function buildProgram(): Command {
  const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
  // One screen: short lines in groups; the README has the details.
  return new Command('serve-dir')
    .description('Serve a folder over HTTP: correct caching, safe defaults, live reload.')
    .argument('[dir]', 'folder to serve (default: .)', undefined)
    .optionsGroup('Serving:')
    .option('-d, --directory <dir>', 'folder to serve (same as [dir])')
    .option('--spa [file]', 'missing navigations get index.html (an SPA)')
    // serve's name for --spa: it works, and is kept off the one-screen help.
    .addOption(new Option('-s, --single [file]', 'alias of --spa').conflicts('spa').hideHelp())
    .option('--clean-urls', '/about serves about.html')
    .option('--no-listing', '404 for folders without an index file')
    .option('--index <name>', 'index file names, in order (repeatable)', collect)
    .option('--no-index', 'no index files')
    .option('--no-redirect', '404 instead of redirecting /folder to /folder/')
    .option('--dotfiles', 'serve dotfiles (hidden by default)')
    .option('--config <file>', `settings file (default: ${CONFIG_FILE_NAME})`)
    .optionsGroup('Caching:')
    .option('--cache <seconds>', 'max-age for all but HTML (default: no-cache)')
    .option('--immutable', 'add "immutable" to Cache-Control (with --cache)')
    .option('--no-compress', 'no gzip/brotli, no .br/.gz sidecars')
    .option('--cache-memory <MiB>', 'memory for cached contents (default: 64)')
    .optionsGroup('Development:')
    .option('-w, --watch', 'live-reload open pages when files change')
    .option('--ignore <glob>', 'with --watch, more paths to ignore', collect)
    .option('--poll', 'with --watch, poll (WSL, network drives)')
    .option('-o, --open [path]', 'open the browser once listening')
    .option('--cors', 'CORS: Allow-Origin *, preflights answered')
    .option('-H, --header <"Name: value">', 'add a header to every response (repeatable)', collect)
    .option('--proxy <prefix=url>', 'send /prefix requests to a backend (repeatable)', collect)
    .optionsGroup('Network and security:')
    .option('-p, --port <n>', `port; 0 picks any free one (default: ${DEFAULT_PORT})`)
    .option('-b, --bind <addr>', `address (default: ${DEFAULT_BIND}; 0.0.0.0: network)`)
    .addOption(new Option('--host <addr>', 'alias of --bind').conflicts('bind'))
    .option('--allowed-host <name>', 'accept this Host name on loopback (repeatable)', collect)
    .option('--auth <user:password>', `HTTP Basic auth (or set ${AUTH_ENVIRONMENT_VARIABLE})`)
    .option('--stall-timeout <seconds>', 'cut clients that stall this long (default: 30)')
    .option('--https', 'HTTPS with a certificate made for this machine')
    .option('--tls-cert <file>', 'HTTPS with this certificate (PEM), and --tls-key')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--tls-password-file <file>', 'file holding the password of an encrypted key')
    .option('--no-http2', 'with TLS, HTTP/1.1 only (no HTTP/2)')
    .option('--qr', 'with a network bind, show a QR code of its URL')
    .optionsGroup('Output:')
    .option('-q, --quiet', 'no line per request (warnings still print)')
    .option('--json', 'JSON lines on stdout instead of text')
    .version(version(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    // Our own, stricter suggestion (flag-suggestion.ts) is added in main().
    .showSuggestionAfterError(false)
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
  stallTimeout?: string;
  https?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsPasswordFile?: string;
  http2: boolean;
  // Config file and output (issue 14).
  config?: string;
  json?: boolean;
  open?: boolean | string;
  qr?: boolean;
  cors?: boolean;
  header?: string[];
  auth?: string;
  spa?: boolean | string;
  single?: boolean | string;
  cleanUrls?: boolean;
  proxy?: string[];
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
    stallTimeout: flags.stallTimeout === undefined ? undefined : parseSeconds(flags.stallTimeout, '--stall-timeout'),
    cors: flags.cors ?? false,
    header: flags.header ?? [],
    auth: authSetting(flags.auth, process.env),
    spa: spaSetting(dir ?? flags.directory, flags.spa ?? flags.single),
    cleanUrls: flags.cleanUrls ?? false,
    https: flags.https ?? false,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    tlsPasswordFile: flags.tlsPasswordFile,
    http2: flags.http2,
    // A prefix given twice: the last one wins, as with the config file's keys.
    proxy: flags.proxy === undefined ? undefined : Object.fromEntries(flags.proxy.map(parseProxyFlag)),
  };
}

/**
 * `serve -s build` (serve's habit) would read "build" as the SPA's page: when the value is a
 * folder and no folder was named, say how to write it rather than fail on a missing page.
 */
function spaSetting(dir: string | undefined, spa: boolean | string | undefined): boolean | string {
  if (typeof spa === 'string' && dir === undefined && isDirectory(spa)) {
    throw new UsageError(`--spa "${spa}" names the page to serve, not the folder (to serve a folder as a single-page app, name it before the flag: serve-dir ${spa} --spa)`);
  }
  return spa ?? false;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What the CLI runs: the library options, and what only the CLI does with them. */
export interface CliSettings extends Options {
  json: boolean;
  /** Open the browser once listening: at '/' for true, or at this path. */
  open: boolean | string;
  qr: boolean;
}

/**
 * Config-file keys this version of the CLI applies. The file's other keys are features not
 * built yet (issue 14): refused, rather than accepted and ignored.
 */
const APPLIED_CONFIG_KEYS: ReadonlySet<string> = new Set<keyof ConfigOptions>([
  'directory', 'port', 'bind', 'quiet', 'listing', 'index', 'redirect', 'dotfiles', 'cache', 'immutable', 'compress',
  'watch', 'ignore', 'poll', 'allowedHost', 'cacheMemory', 'stallTimeout', 'json', 'open', 'qr',
  'cors', 'header', 'headers', 'auth', 'spa', 'cleanUrls', 'https', 'tlsCert', 'tlsKey', 'tlsPasswordFile', 'http2', 'proxy',
]);

/**
 * The flags, over the config file (`--config <file>`, else serve-dir.config.json in the folder
 * served, else in the working directory): a key the file sets is taken unless its flag was given
 * on the command line. A port from the file is one the user chose: it must be free.
 */
export function settingsFrom(program: Command, cwd = process.cwd()): { settings: CliSettings; config: LoadedConfig | undefined } {
  const dir = program.args[0];
  const flags = program.opts<ParsedFlags>();
  const fromFlags: CliSettings = { ...optionsFromFlags(dir, flags), json: flags.json ?? false, open: flags.open ?? false, qr: flags.qr ?? false };
  const config = loadConfig({ explicit: flags.config, directory: dir ?? flags.directory, cwd });
  if (config === undefined) return { settings: checkOpenPath(fromFlags), config };
  for (const key of Object.keys(config.options)) {
    if (!APPLIED_CONFIG_KEYS.has(key)) throw new ConfigError(`${config.file}: "${key}" is not supported by this version of serve-dir yet`);
  }
  const given = (key: string) => program.getOptionValueSource(key) === 'cli';
  const fromCommandLine = (key: string) => (key === 'directory' ? dir !== undefined || given('directory') : key === 'bind' ? given('bind') || given('host') : key === 'spa' ? given('spa') || given('single') : given(key));
  const merged = mergeWithFlags<CliSettings>(config.options as Partial<CliSettings>, fromFlags, fromCommandLine);
  return { settings: checkOpenPath({ ...merged, strictPort: merged.port !== undefined }), config };
}

/** `-o dist` reads "dist" as the path to open, not as the folder: say so rather than open /dist. */
function checkOpenPath(settings: CliSettings): CliSettings {
  if (typeof settings.open === 'string' && !settings.open.startsWith('/')) {
    throw new UsageError(`invalid --open "${settings.open}": expected a path starting with "/" (to serve a folder, name it before the flag: serve-dir dist --open)`);
  }
  return settings;
}

/**
 * Where events go: text (colour on a terminal) with requests and changes on stdout and
 * problems on stderr, or with --json one JSON line each on stdout. The listening event is held
 * back for `start()`, and what comes before it waits too, so that it is always the first line.
 */
function createOutput(json: boolean) {
  const stdoutColors = colorsFor(process.stdout);
  const stderrColors = colorsFor(process.stderr);
  // A reader that has what it wanted (the port) may close the pipe: the server serves on,
  // silently, rather than dying of EPIPE with a stack trace.
  let readerGone = false;
  process.stdout.on('error', () => (readerGone = true));
  const write = (event: ServerEvent) => {
    if (readerGone) return;
    if (json) {
      process.stdout.write(`${jsonLine(event)}\n`);
      return;
    }
    const problem = isProblem(event);
    const line = formatEvent(event, problem ? stderrColors : stdoutColors);
    if (line !== undefined) (problem ? process.stderr : process.stdout).write(`${line}\n`);
  };
  let held: ServerEvent[] | undefined = [];
  let listening: ListeningEvent | undefined;
  return {
    onEvent(event: ServerEvent): void {
      if (event.type === 'listening') listening = event;
      else if (held !== undefined) held.push(event);
      else write(event);
    },
    /** The banner (or the listening line), then whatever was held back. */
    start(banner: string): void {
      if (json && listening !== undefined) write(listening);
      else if (!json) process.stdout.write(`${banner}\n`);
      const pending = held ?? [];
      held = undefined;
      for (const event of pending) write(event);
    },
    warn(code: WarningEvent['code'], message: string): void {
      this.onEvent({ type: 'warning', code, from: 'server', message });
    },
  };
}

function banner(running: RunningServer, requestedPort: number | undefined, qrCode: string | undefined): string {
  const c = colorsFor();
  const { options } = running.handler;
  const shown = relative(process.cwd(), options.root) || '.';
  // The folder's name is whatever someone called it (an unpacked archive, a clone).
  const folder = terminalSafe(shown.startsWith('..') ? options.root : shown);
  const lines = ['', `  ${c.bold(c.green('serve-dir'))} serving ${c.bold(folder)}`, ''];
  for (const url of running.urls.local) lines.push(`  ${c.dim('Local:  ')} ${c.cyan(url)}`);
  for (const url of running.urls.network) lines.push(`  ${c.dim('Network:')} ${c.cyan(url)}`);
  if (running.urls.network.length === 0 && isNetworkBind(options.bind)) {
    lines.push(`  ${c.dim('Network:')} no external network interface found`);
  }
  if (qrCode !== undefined) lines.push('', ...qrCode.split('\n').map((line) => `  ${line}`));
  lines.push('');
  const wanted = requestedPort ?? options.port;
  if (wanted !== 0 && running.port !== wanted) lines.push(`  ${c.yellow(`Port ${wanted} is in use; using ${running.port} instead.`)}`);
  if (options.auth === undefined && !isLoopbackBind(options.bind)) {
    lines.push(`  ${c.yellow('Anyone on your network can read these files;')} add --auth user:password to require a password.`);
  }
  if (running.tls?.createdPath !== undefined) {
    lines.push(`  ${c.yellow('New certificate;')} to trust it: ${terminalSafe(trustCommand(running.tls.createdPath))}`);
  }
  for (const route of options.proxy) lines.push(`  ${c.dim('Proxy:  ')} ${terminalSafe(route.prefix)} → ${c.cyan(terminalSafe(route.target.href))}`);
  if (options.watch) lines.push(`  ${c.magenta('Live reload on:')} open pages reload when files change.`);
  lines.push(`  ${c.dim('Press Ctrl+C to stop.')}`, '');
  return lines.join('\n');
}

function isNetworkBind(bind: string): boolean {
  return bind === '0.0.0.0' || bind === '::' || bind === '[::]';
}

/** The QR code of the first network URL, for the banner; loaded only under --qr. */
async function qrCodeFor(running: RunningServer): Promise<string | undefined> {
  const url = running.urls.network[0];
  if (url === undefined) return undefined;
  const { renderQrCode } = await import('./qr.js');
  return renderQrCode(url, { colors: colorsFor().isColorSupported });
}

/** Entry point of bin/serve-dir.js. */
export async function main(argv: readonly string[]): Promise<void> {
  // `serve-dir --help | head` closes the pipe early: that is the reader's choice, not our error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({
    writeErr: (text) => process.stderr.write(text),
    // One line, always: commander puts its "(Did you mean --port?)" on a line of its own.
    // It quotes the arguments, which may be file names a shell glob expanded.
    outputError: (text, write) => write(`serve-dir: ${terminalSafe(withSuggestion(program, text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')))}\n`),
  });
  let running: RunningServer;
  let settings: CliSettings;
  let output: ReturnType<typeof createOutput>;
  try {
    program.parse([...argv]);
    const found = settingsFrom(program);
    settings = found.settings;
    output = createOutput(settings.json);
    // The config file may hold credentials, and often lies in the folder served.
    const { json: _json, open: _open, qr: _qr, ...options } = settings;
    running = await startServer({ ...options, onEvent: output.onEvent, hide: found.config === undefined ? [] : [found.config.file] });
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
  const networkBind = isNetworkBind(running.handler.options.bind);
  // The QR code is part of the banner; with --json stdout holds JSON only, so there is none.
  const qrCode = settings.qr && networkBind && !settings.json ? await qrCodeFor(running) : undefined;
  // Only now: whoever reads the URL may stop us at once, and must get a graceful stop.
  output.start(banner(running, program.opts<ParsedFlags>().port === undefined && !settings.strictPort ? undefined : running.handler.options.port, qrCode));
  if (settings.qr && !networkBind) {
    output.warn('qr-needs-network', '--qr shows the network URL: add --bind 0.0.0.0 (or ::) to serve to the network');
  }
  if (settings.open !== false) await openInBrowser(running, settings.open, output.warn.bind(output));
}

/** --open: the browser at the server's first URL; if it cannot be opened, one line and the server runs on. */
async function openInBrowser(running: RunningServer, path: true | string, warn: (code: 'open-failed', message: string) => void): Promise<void> {
  const url = new URL(path === true ? '/' : path, running.urls.local[0]).href;
  // BROWSER=none is the user's own choice: nothing to report.
  if (openerFor(url, process.env, process.platform).kind === 'disabled') return;
  const result = await openBrowser(url);
  if (!result.opened) warn('open-failed', `could not open a browser: ${result.reason ?? 'unknown reason'}; open ${url} yourself`);
}

/** `unknown option '--por'` gains `(did you mean --port?)` when it is a slip of the keyboard. */
function withSuggestion(program: Command, message: string): string {
  const unknown = /^unknown option '([^']*)'$/.exec(message)?.[1];
  if (unknown === undefined) return message;
  const known = program.options.flatMap((option) => (option.long === undefined ? [] : [option.long]));
  const suggestion = suggestFlag(unknown, known);
  return suggestion === undefined ? message : `${message} (did you mean ${suggestion}?)`;
}
