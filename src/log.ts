import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { createColors } from 'picocolors';
import { formatSize } from './listing/format.js';
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
  status: number,
  bytes: number,
  milliseconds: number,
): string {
  const time = date.toTimeString().slice(0, 8);
  const paint = status >= 500 ? colors.red : status >= 400 ? colors.yellow : status >= 300 ? colors.cyan : colors.green;
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
  const head = `${error.name}: ${error.message}`;
  const stack = error.stack ?? '';
  // The stack begins with the head as it was when the error was made; the frames follow.
  const framesAt = stack.startsWith(head) ? head.length : stack.search(/\n\s+at /);
  const frames = framesAt < 0 ? [] : stack.slice(framesAt).split('\n').filter((line) => line !== '');
  return [terminalSafe(head), ...frames.map(terminalSafe)].join('\n');
}

/** Log one line per finished (or aborted) request. */
export function logRequests(colors: Colors, log: (line: string) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    // Bytes put on the wire for this response, headers included (as Apache's %O).
    const socket = req.socket;
    const writtenBefore = socket.bytesWritten;
    res.once('close', () => {
      const bytes = socket.bytesWritten - writtenBefore;
      const status = res.writableFinished ? res.statusCode : 499;
      log(formatRequestLine(colors, new Date(), req.method ?? '?', req.url ?? '', status, bytes, performance.now() - start));
    });
  };
}
