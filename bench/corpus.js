// The files every server is measured on. Built once and reused while its marker file says it
// is complete and of this layout; never deleted, so pointing --corpus at a wrong directory
// costs at most a few overwritten files of these exact names.
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MARKER = '.complete';
/** Change when the layout changes, so that older corpora are rebuilt. */
const LAYOUT = 'serve-dir bench corpus v1';

export const LISTING_DIR = 'many';
export const LISTING_ENTRIES = 10_000;
const LARGE_SIZE = 100 * 1024 * 1024;

/** @param {number} n */
export const listingEntryName = (n) => `file-${n}.txt`;

/**
 * @typedef {object} Corpus
 * @property {string} root
 * @property {Record<'small' | 'medium' | 'large', { path: string, size: number }>} files  URL path and size
 */

/**
 * The corpus at `root`, built first when missing or incomplete.
 * @param {string} root
 * @param {(message: string) => void} log
 * @returns {Corpus}
 */
export function ensureCorpus(root, log) {
  if (!isComplete(root)) {
    log(`building the corpus in ${root} (about 100 MiB, once)`);
    buildCorpus(root);
  }
  const size = (/** @type {string} */ name) => statSync(join(root, name)).size;
  return {
    root,
    files: {
      small: { path: '/small.txt', size: size('small.txt') },
      medium: { path: '/medium.js', size: size('medium.js') },
      large: { path: '/large.bin', size: size('large.bin') },
    },
  };
}

/** @param {string} root */
function isComplete(root) {
  const marker = join(root, MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8') === LAYOUT;
}

/** @param {string} root */
function buildCorpus(root) {
  const many = join(root, LISTING_DIR);
  mkdirSync(many, { recursive: true });
  writeFileSync(join(root, 'small.txt'), 'a'.repeat(1024));
  writeFileSync(join(root, 'index.html'), '<!doctype html><html><head><title>bench</title></head><body><h1>Hello</h1></body></html>\n');
  writeFileSync(join(root, 'medium.js'), wrapLines(randomBytes(100 * 1024).toString('base64'), 100));
  writeRandomFile(join(root, 'large.bin'), LARGE_SIZE);
  for (let n = 1; n <= LISTING_ENTRIES; n++) writeFileSync(join(many, listingEntryName(n)), `${n}\n`);
  const entries = readdirSync(many).length;
  if (entries !== LISTING_ENTRIES) {
    throw new Error(`${many} holds ${entries} entries, not ${LISTING_ENTRIES}: it has files of its own; choose another --corpus`);
  }
  // Written last: its presence means everything above is in place.
  writeFileSync(join(root, MARKER), LAYOUT);
}

/**
 * Base64 text in lines, like a minified script: about 135 KiB for 100 KiB of bytes.
 * @param {string} text
 * @param {number} width
 */
function wrapLines(text, width) {
  const lines = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join('\n') + '\n';
}

/**
 * Random bytes, so that no layer on the way can compress them.
 * @param {string} path
 * @param {number} size
 */
function writeRandomFile(path, size) {
  const chunk = Buffer.alloc(1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; written += chunk.length) writeSync(fd, randomFillSync(chunk));
  } finally {
    closeSync(fd);
  }
}
