// The client side of a rename race (see rename-race.js): one request for the contested
// name, judged. Plain JavaScript so that both the tests and bench/soak.js use it.

import { get } from 'node:http';

/**
 * What one answer to a raced name is: '200' (the file's own bytes), '404', 'leak' (a byte of
 * the canary from outside the root), 'wrong bytes', or another status. With `acceptSuffix`,
 * a 200 may carry more after the file's bytes (the live-reload script of a page).
 *
 * @param {number} status
 * @param {Buffer} body
 * @param {{ expected: Buffer, canary: string, acceptSuffix?: boolean }} rule
 */
export function judgeRacedAnswer(status, body, { expected, canary, acceptSuffix = false }) {
  if (body.includes(canary)) return 'leak';
  if (status === 404) return '404';
  if (status === 200) return (acceptSuffix ? body.subarray(0, expected.length) : body).equals(expected) ? '200' : 'wrong bytes';
  return String(status);
}

/**
 * GET `path` and judge the answer; 'cut' when the connection ends mid-body (judged for the
 * canary first), 'hung' when nothing settles within `hungMs`.
 *
 * @param {{ port: number, path: string, agent: import('node:http').Agent, expected: Buffer, canary: string, hungMs: number, acceptSuffix?: boolean }} options
 * @returns {Promise<string>}
 */
export function requestRaced({ port, path, agent, expected, canary, hungMs, acceptSuffix = false }) {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve(judgeRacedAnswer(res.statusCode ?? 0, Buffer.concat(chunks), { expected, canary, acceptSuffix })));
      // After 'end' this changes nothing; before it, the connection was cut mid-body.
      res.on('close', () => resolve(Buffer.concat(chunks).includes(canary) ? 'leak' : 'cut'));
      res.on('error', () => {});
    });
    req.setTimeout(hungMs, () => {
      req.destroy();
      resolve('hung');
    });
    req.on('error', () => resolve('cut'));
  });
}
