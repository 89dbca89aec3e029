// Before load is put on a URL, one request checks that the server answers it as it should:
// the right status and size, a full listing, a real 304. A figure for a wrong answer is no figure.
import { LISTING_DIR, LISTING_ENTRIES, listingEntryName } from './corpus.js';
import { get } from './http.js';

/** @typedef {{ ok: true, headers: Record<string, string> } | { ok: false, reason: string }} Probe */

/** @type {(headers?: Record<string, string>) => Probe} */
const ok = (headers = {}) => ({ ok: true, headers });
/** @type {(reason: string) => Probe} */
const notOk = (reason) => ({ ok: false, reason });

export const LISTING_PATH = `/${LISTING_DIR}/`;

/**
 * A file must come back 200 with its exact size (the large one is judged by Content-Length).
 * @param {number} port
 * @param {{ path: string, size: number }} file
 * @returns {Promise<Probe>}
 */
export async function probeFile(port, { path, size }) {
  const readBody = size <= 1024 * 1024;
  const answer = await get(port, path, { readBody });
  if (answer.status !== 200) return notOk(`status ${answer.status}`);
  const length = readBody ? answer.body.length : Number(answer.headers['content-length']);
  if (length !== size) return notOk(`${length} bytes instead of ${size}`);
  return ok();
}

/**
 * The directory listing must name every one of the 10,000 entries (a truncated or paged
 * listing is cheaper to serve and would not compare).
 * @param {number} port
 * @returns {Promise<Probe>}
 */
export async function probeListing(port) {
  const answer = await get(port, LISTING_PATH);
  if (answer.status !== 200) return notOk(`no listing (status ${answer.status})`);
  const html = answer.body.toString('utf8');
  const missing = [1, LISTING_ENTRIES].map(listingEntryName).filter((name) => !html.includes(name));
  return missing.length === 0 ? ok() : notOk(`listing lacks ${missing.join(', ')}`);
}

/**
 * Finds the validator that gets a 304 for the file: If-None-Match with the ETag the server
 * sent, else If-Modified-Since with its Last-Modified (RFC 9110 §13.1.2 and §13.1.3).
 * @param {number} port
 * @param {string} path
 * @returns {Promise<Probe>}
 */
export async function probeRevalidation(port, path) {
  const { headers } = await get(port, path);
  /** @type {Record<string, string>[]} */
  const candidates = [];
  if (headers.etag) candidates.push({ 'If-None-Match': headers.etag });
  if (headers['last-modified']) candidates.push({ 'If-Modified-Since': headers['last-modified'] });
  if (candidates.length === 0) return notOk('no ETag nor Last-Modified');
  for (const conditional of candidates) {
    if ((await get(port, path, { headers: conditional })).status === 304) return ok(conditional);
  }
  return notOk('never answers 304');
}
