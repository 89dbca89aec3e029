import type { IncomingMessage, ServerResponse } from 'node:http';
import { createColors } from 'picocolors';
import { formatSize } from './listing/format.js';

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
  return `${colors.dim(time)} ${method} ${printable(url)} ${paint(String(status))} ${formatSize(bytes)} ${colors.dim(`${milliseconds.toFixed(1)} ms`)}`;
}

/** Never let a request path write control sequences to the user's terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.length > 300 ? `${printable(text.slice(0, 300))}…` : text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
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
