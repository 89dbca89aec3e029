// `--open`: show the served URL in the user's browser once the server listens.
//
// The opener is BROWSER when set (the convention of Python's webbrowser, xdg-utils and many
// CLIs: a command, possibly with arguments; "%s" in it stands for the URL, otherwise the URL is
// the last argument; "none" turns opening off, as Vite and create-react-app read it), else the
// platform's own: xdg-open (Linux and other Unixes), open (macOS), cmd's start (Windows).
// Unlike Python's BROWSER, no list separated by ":" is read: a colon in an argument
// (`--proxy-server=http://h:8080`) would be cut.
//
// The URL is always passed as one argument, never through a shell, so nothing in it is run.

// The default import, not `{ spawn }`: in the CLI's bundle node:child_process is a lazy
// stand-in (src/bundle/lazy-child-process.cjs) whose names esbuild cannot copy at load time;
// `childProcess.spawn` is read when called.
import childProcess from 'node:child_process';

export interface OpenResult {
  opened: boolean;
  /** Why not, as one line the CLI can print: "no browser opener found (xdg-open is not installed)". */
  reason?: string;
}

export interface OpenOptions {
  /** The environment: BROWSER is read from it and the opener runs with it. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
}

export type Opener =
  | { kind: 'command'; command: string; args: string[]; fromBrowserVariable: boolean; windowsVerbatimArguments?: boolean }
  | { kind: 'disabled'; reason: string };

/** The command that would open `url`, without running it. */
export function openerFor(url: string, env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): Opener {
  const browser = env['BROWSER']?.trim();
  if (browser !== undefined && browser !== '') {
    if (browser.toLowerCase() === 'none') return { kind: 'disabled', reason: 'BROWSER is "none"' };
    const words = splitCommandLine(browser);
    const [command, ...args] = words;
    if (command === undefined) return { kind: 'disabled', reason: 'BROWSER is not a command' };
    const substituted = args.some((arg) => arg.includes('%s'));
    return {
      kind: 'command',
      command,
      args: substituted ? args.map((arg) => arg.replaceAll('%s', url)) : [...args, url],
      fromBrowserVariable: true,
    };
  }
  if (platform === 'darwin') return { kind: 'command', command: 'open', args: [url], fromBrowserVariable: false };
  if (platform === 'win32') {
    // `start` is a cmd built-in; its first quoted argument is a window title, hence "". cmd
    // would read & | < > ^ ( ) as operators and %NAME% as a variable: each is escaped with ^
    // (after a '%', so the name never matches), and the arguments are passed verbatim.
    const escaped = url.replace(/[&|<>^()!]/g, '^$&').replace(/%/g, '%^');
    return { kind: 'command', command: 'cmd', args: ['/d', '/c', 'start', '""', escaped], fromBrowserVariable: false, windowsVerbatimArguments: true };
  }
  return { kind: 'command', command: 'xdg-open', args: [url], fromBrowserVariable: false };
}

/**
 * Open `url` in the browser. Resolves once the opener has started (it is detached and its
 * output ignored: a browser may run for hours and must not hold the server's terminal), or
 * with `opened: false` and a reason when there is no opener. Never rejects: the server runs on.
 */
export function openBrowser(url: string, options: OpenOptions = {}): Promise<OpenResult> {
  const env = options.env ?? process.env;
  const opener = openerFor(url, env, options.platform ?? process.platform);
  if (opener.kind === 'disabled') return Promise.resolve({ opened: false, reason: opener.reason });
  return new Promise((resolve) => {
    let child;
    try {
      child = childProcess.spawn(opener.command, opener.args, {
        detached: true,
        stdio: 'ignore',
        env: env as NodeJS.ProcessEnv,
        windowsHide: true,
        ...(opener.windowsVerbatimArguments === true ? { windowsVerbatimArguments: true } : {}),
      });
    } catch (error) {
      resolve({ opened: false, reason: failure(opener, error) });
      return;
    }
    child.once('spawn', () => {
      child.unref();
      resolve({ opened: true });
    });
    // Kept after 'spawn' too: an 'error' event without a listener would throw.
    child.on('error', (error) => resolve({ opened: false, reason: failure(opener, error) }));
  });
}

function failure(opener: Extract<Opener, { kind: 'command' }>, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const source = opener.fromBrowserVariable ? `BROWSER command "${opener.command}"` : opener.command;
  if (code === 'ENOENT') return opener.fromBrowserVariable ? `${source} not found` : `no browser opener found (${opener.command} is not installed)`;
  if (code === 'EACCES') return `${source} is not executable`;
  return `${source} failed: ${code ?? (error as Error).message}`;
}

/**
 * Split a command line into words the way a POSIX shell would for simple cases: blanks
 * separate, '…' is literal, "…" allows \" and \\, and \ escapes one character outside quotes.
 * No expansion of any kind.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line.charAt(i + 1) === '"' || line.charAt(i + 1) === '\\')) word += line.charAt(++i);
      else word += c;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === "'" || c === '"') quote = c;
      else if (c === '\\' && i + 1 < line.length) word += line.charAt(++i);
      else word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}
