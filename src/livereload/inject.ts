// Puts the live-reload script tag into an HTML page, where insertion-point.ts says a browser
// will run it. Works on the bytes, never a decode to a JS string: the tag is ASCII, and is only
// ever put into pages whose charset is ASCII-compatible (UTF-8, ISO-8859-x, windows-125x); other
// pages (UTF-16 ...) are sent as they are.
//
// A page in memory (a small file, a listing, an error page) gets a copy with the tag in it. A
// large file is never read whole: it is scanned in small chunks for the insertion point, and
// then streamed as three pieces (the bytes before the point, the tag, the rest), so its length
// is known before the first byte goes out.

import type { FileHandle } from 'node:fs/promises';
import { CHARSET_PRESCAN_BYTES, findInsertionPoint, incompatibleCharset, InsertionPointScanner } from './insertion-point.js';

export { findInsertionPoint, incompatibleCharset } from './insertion-point.js';

/**
 * Read size of a scan: the largest read of a download (send.ts). Each read is a trip through the
 * thread pool, which on a loaded machine costs more than the read: a 1 GiB page scanned in 0.3 s
 * with 1 MiB reads, 0.4 to 1.1 s with 256 KiB ones. SCAN_SLOTS at a time bound the memory.
 */
const SCAN_CHUNK = 1024 * 1024;
const SCAN_SLOTS = 4;
/** Insertion points remembered (one per file version; a few numbers each). */
const MAX_REMEMBERED_SCANS = 256;

/** Returns the page with `tag` inserted (a new Buffer; `html` is not modified). The caller checks the charset. */
export function injectScript(html: Buffer, tag: string): Buffer {
  const at = findInsertionPoint(html);
  const tagBytes = Buffer.from(tag, 'utf8');
  return Buffer.concat([html.subarray(0, at), tagBytes, html.subarray(at)], html.length + tagBytes.length);
}

/** What a scan of a page file found: where the tag goes, or the charset that keeps it out. */
export type PageScan = { kind: 'insert'; at: number } | { kind: 'incompatible'; charset: string };

/** The file version to scan: its ETag names the version. */
interface PageFile {
  absolute: string;
  size: number;
  etag: string;
}

/**
 * Scans of large page files, one per file version: concurrent requests share it, later ones find
 * it done. At most SCAN_SLOTS run at once (the others wait their turn), so the memory of scans
 * stays bounded however many large pages are asked for. One per handler.
 */
export class PageFileScans {
  readonly #results = new Map<string, Promise<PageScan | undefined>>();

  /** `openPage` opens a page as serving does (the file cache's judged open: regular files inside the root only). */
  constructor(private readonly openPage: OpenPage) {}

  #free = SCAN_SLOTS;
  readonly #waiting: Array<() => void> = [];

  /**
   * Where the tag goes in `file`; undefined when it cannot be read now (the caller then sends it
   * as is, and sending meets, and answers, the same error as without live reload).
   */
  scan(file: PageFile): Promise<PageScan | undefined> {
    let result = this.#results.get(file.etag);
    if (result === undefined) {
      result = this.#inTurn(() => scanPageFile(this.openPage, file.absolute, file.size)).catch(() => undefined);
      this.#results.set(file.etag, result);
      if (this.#results.size > MAX_REMEMBERED_SCANS) this.#results.delete(this.#results.keys().next().value!);
      void result.then((found) => {
        if (found === undefined) this.#results.delete(file.etag);
      });
    }
    return result;
  }

  /** The scan already made for `file`, if there is one. */
  done(file: PageFile): Promise<PageScan | undefined> | undefined {
    return this.#results.get(file.etag);
  }

  async #inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#free++;
      else next();
    }
  }
}

/**
 * Opens a page file to read, or throws: never a FIFO that would park the reader, never a
 * file that a link renamed over the name leads to outside the root.
 */
export type OpenPage = (path: string) => Promise<FileHandle>;

/** Scans the first `size` bytes of the file at `path` with one small buffer. Throws what opening or reading throws. */
async function scanPageFile(openPage: OpenPage, path: string, size: number): Promise<PageScan> {
  const handle = await openPage(path);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, Math.max(size, 1)));
    const scanner = new InsertionPointScanner();
    for (let position = 0; position < size; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      // Shorter than its stat said: scan what there is (sending it will notice).
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      if (position === 0) {
        const charset = incompatibleCharset(chunk);
        if (charset !== undefined) return { kind: 'incompatible', charset };
      }
      scanner.write(chunk);
      position += bytesRead;
    }
    return { kind: 'insert', at: scanner.end() };
  } finally {
    await handle.close();
  }
}

/** The charset of the page file at `path` when it takes no ASCII tag (see incompatibleCharset); reads 1024 bytes. */
export async function pageFileCharset(openPage: OpenPage, path: string): Promise<string | undefined> {
  const handle = await openPage(path);
  try {
    const head = Buffer.alloc(CHARSET_PRESCAN_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return incompatibleCharset(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
