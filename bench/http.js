// Single HTTP requests to the server under test: readiness polling and the probes that check
// each URL answers what it should before load is put on it. Only 127.0.0.1 is ever contacted.
import { request as httpRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * @typedef {object} Answer
 * @property {number} status
 * @property {import('node:http').IncomingHttpHeaders} headers
 * @property {Buffer} body  empty when the body was not read
 */

/**
 * One GET on a fresh connection.
 * @param {number} port
 * @param {string} path
 * @param {{ headers?: Record<string, string>, readBody?: boolean, timeoutMs?: number }} [options]
 *   readBody false: resolve on the headers and drop the connection (for the 100 MiB file)
 * @returns {Promise<Answer>}
 */
export function get(port, path, { headers = {}, readBody = true, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false, timeout: timeoutMs });
    req.once('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.once('response', (res) => {
      const answer = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) };
      if (!readBody) {
        res.destroy();
        req.destroy();
        resolve(answer);
        return;
      }
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => resolve({ ...answer, body: Buffer.concat(chunks) }));
    });
    req.end();
  });
}

/**
 * Polls `path` as tightly as the event loop allows until it answers 200.
 * @param {number} port
 * @param {string} path
 * @param {{ deadlineMs: number, gaveUp: () => string | undefined, signal?: AbortSignal }} options
 *   gaveUp: why there is no point in polling further (the process exited), if so
 */
export async function waitForOk(port, path, { deadlineMs, gaveUp, signal }) {
  const deadline = performance.now() + deadlineMs;
  let last = 'no connection';
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    const reason = gaveUp();
    if (reason) throw new Error(reason);
    try {
      const answer = await get(port, path, { timeoutMs: 2000 });
      if (answer.status === 200) return;
      last = `status ${answer.status}`;
    } catch (error) {
      last = /** @type {Error} */ (error).message;
    }
    await delay(1);
  }
  throw new Error(`no 200 for ${path} within ${deadlineMs / 1000} s (last: ${last})`);
}
