import { inspect } from 'node:util';
import { createColors } from 'picocolors';
import { formatSize } from './listing/format.js';
import { errorDetails, type EmitEvent, type ServerEvent } from './events.js';
import { terminalSafe } from './terminal-text.js';

/**
 * Colour only for a person at a terminal: plain when NO_COLOR is set
 * (no-color.org) or output goes to a file or pipe, unless FORCE_COLOR asks.
 */
export function colorsFor(stream: NodeJS.WriteStream = process.stdout) {
  const env = process.env;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  return createColors(!noColor && (force || (stream.isTTY === true && env.TERM !== 'dumb')));
}

export type Colors = ReturnType<typeof colorsFor>;

/** `12:03:04 GET /css/site.css 200 1.2 KiB 0.4 ms`, the status coloured by class. */
export function formatRequestLine(
  colors: Colors,
  date: Date,
  method: string,
  url: string,
  status: number | 'aborted',
  bytes: number,
  milliseconds: number,
): string {
  const time = date.toTimeString().slice(0, 8);
  // A response cut before its end (the client left, or stalled) says so, rather than nginx's 499.
  const paint = status === 'aborted' || status >= 500 ? colors.red : status >= 400 ? colors.yellow : status >= 300 ? colors.cyan : colors.green;
  return `${colors.dim(time)} ${requestField(method)} ${requestField(withoutUserinfo(url))} ${paint(String(status))} ${formatSize(bytes)} ${colors.dim(`${milliseconds.toFixed(1)} ms`)}`;
}

/**
 * A request target in absolute form may carry `user:password@` (RFC 3986 §3.2.1);
 * with --auth that may be the real password, and logs are read by others.
 */
export function withoutUserinfo(target: string): string {
  return target.charCodeAt(0) === 0x2f /* '/' */ ? target : target.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1');
}

/** A field of a request as a log line shows it: terminal-safe, and cut short so one request cannot flood the screen. */
export function requestField(text: string): string {
  return terminalSafe(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

/**
 * The line (and stack) for a bug of ours met while serving a request. The
 * error's message may hold a path or request text (`EIO: …, stat '/srv/<name>'`),
 * so the message and every frame are made terminal-safe: a line break in the
 * message stays inside its line instead of forging another.
 */
export function formatInternalError(method: string, target: string, error: unknown): string {
  return `serve-dir: internal error while serving a request (${requestField(method)} ${requestField(withoutUserinfo(target))}): ${describeError(error)}`;
}

/** `Name: message` and the stack frames below it, each line terminal-safe. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return terminalSafe(inspect(error));
  return describeDetails(errorDetails(error));
}

function describeDetails(details: { message: string; stack?: string | undefined }): string {
  const frames = (details.stack ?? '').split('\n').filter((line) => line !== '');
  return [terminalSafe(details.message), ...frames.map(terminalSafe)].join('\n');
}

const PLAIN = createColors(false);

/** The terminal line for a batch, e.g. "↻ css/site.css (+19 more) → 3 pages"; the name is any file's, so made terminal-safe. */
export function describeBatch(urlPaths: readonly string[], pagesTold: number, colors: Colors = PLAIN): string {
  const first = terminalSafe(urlPaths[0]?.slice(1) ?? '');
  const more = urlPaths.length > 1 ? colors.dim(` (+${urlPaths.length - 1} more)`) : '';
  return `${colors.cyan('↻')} ${first}${more} → ${pagesTold} ${pagesTold === 1 ? 'page' : 'pages'}`;
}

/**
 * An event as the terminal shows it, or undefined for events the text log does not show
 * (`listening`: the CLI prints its banner). Every field that came from a request, a file
 * name or an error message is made terminal-safe; colour only from `colors`.
 */
export function formatEvent(event: ServerEvent, colors: Colors = PLAIN): string | undefined {
  switch (event.type) {
    case 'listening':
      return undefined;
    case 'request':
      return formatRequestLine(colors, new Date(event.time), event.method, event.path, event.aborted ? 'aborted' : event.status, event.bytes, event.ms);
    case 'change':
      return describeBatch(event.paths, event.pages, colors);
    case 'watching':
      return `live reload: watching for changes (ready in ${Math.round(event.ms)} ms)`;
    case 'warning':
      return `${event.from === 'live-reload' ? 'live reload' : 'serve-dir'}: ${terminalSafe(event.message)}`;
    case 'error':
      if (event.during === 'request') {
        const { method, path } = event.request ?? { method: '?', path: '' };
        return `serve-dir: internal error while serving a request (${requestField(method)} ${requestField(path)}): ${describeDetails(event)}`;
      }
      return `live reload: a change listener failed: ${describeDetails(event)}`;
  }
}

/** Whether an event belongs on stderr (warnings, our bugs) rather than stdout (the log). */
export function isProblem(event: ServerEvent): boolean {
  return event.type === 'warning' || event.type === 'error';
}

/**
 * The sink of a library user who gave no `onEvent`: plain text, never colour (a file or a
 * pipe gets no escape codes), through `log` if given, else the console.
 */
export function textSink(log: ((line: string) => void) | undefined): EmitEvent {
  return (event) => {
    const line = formatEvent(event);
    if (line === undefined) return;
    if (log !== undefined) log(line);
    else if (isProblem(event)) console.error(line);
    else console.log(line);
  };
}

/**
 * An event as one line of JSON for `--json`: `"event"` first, then the fields in a fixed
 * order. JSON.stringify leaves C1 controls, line separators and bidirectional controls as
 * they are; they are escaped too, so a line is still JSON and inert on a terminal.
 */
export function jsonLine(event: ServerEvent): string {
  const ordered: Record<string, unknown> = { event: event.type };
  const fields = event as unknown as Record<string, unknown>;
  for (const key of JSON_FIELDS[event.type]) if (fields[key] !== undefined) ordered[key] = fields[key];
  return JSON.stringify(ordered).replace(JSON_UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const JSON_FIELDS: { readonly [T in ServerEvent['type']]: ReadonlyArray<Exclude<keyof Extract<ServerEvent, { type: T }>, 'type'>> } = {
  listening: ['urls', 'network', 'port', 'directory'],
  request: ['time', 'method', 'path', 'status', 'bytes', 'ms', 'aborted'],
  change: ['paths', 'pages'],
  watching: ['ms'],
  warning: ['code', 'from', 'message'],
  error: ['during', 'message', 'stack', 'request'],
};

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
