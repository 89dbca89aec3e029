import { lookup } from 'mime-types';
import { describe, expect, it } from 'vitest';
import { chooseEncoding, isCompressible, type Coding, type Encoding } from '../../src/http/negotiate.js';

const BR_GZIP: Coding[] = ['br', 'gzip'];

describe('chooseEncoding (RFC 9110 §12.5.3)', () => {
  // [Accept-Encoding, available codings in server preference order, chosen]
  const rows: Array<[string | undefined, Coding[], Encoding | null]> = [
    [undefined, BR_GZIP, 'identity'], // no header: no known preference
    ['', BR_GZIP, 'identity'], // empty: "does not want any content coding"
    ['gzip', BR_GZIP, 'gzip'],
    ['br', BR_GZIP, 'br'],
    ['gzip, br', BR_GZIP, 'br'], // a tie goes to the server's preference
    ['gzip, deflate, br, zstd', BR_GZIP, 'br'], // what browsers send
    ['gzip, deflate, br', ['gzip', 'br'], 'gzip'],
    ['deflate', BR_GZIP, 'identity'],
    ['compress;q=0.5, gzip;q=1.0', BR_GZIP, 'gzip'],
    // q-values
    ['gzip;q=0.5, br;q=0.4', BR_GZIP, 'gzip'],
    ['gzip;q=0.5, br;q=0.5', BR_GZIP, 'br'],
    ['gzip;q=0.501, br;q=0.5', BR_GZIP, 'gzip'],
    ['br;q=0, gzip', BR_GZIP, 'gzip'],
    ['br;q=0', BR_GZIP, 'identity'],
    ['br;q=0.001', BR_GZIP, 'br'],
    ['gzip;q=1.0', BR_GZIP, 'gzip'],
    ['gzip;q=1.000', BR_GZIP, 'gzip'],
    ['gzip;q=0.', BR_GZIP, 'identity'], // "0." is q=0
    ['gzip;q=1.', BR_GZIP, 'gzip'],
    ['gzip;Q=0.5', BR_GZIP, 'gzip'], // "q" is case-insensitive
    ['gzip;q=0, gzip', BR_GZIP, 'identity'], // listed twice: the refusal wins
    // identity
    ['identity', BR_GZIP, 'identity'],
    ['identity;q=0', BR_GZIP, null],
    ['identity;q=0, gzip;q=0', BR_GZIP, null],
    ['identity;q=0, gzip', BR_GZIP, 'gzip'],
    ['gzip;q=0.5, identity', BR_GZIP, 'identity'], // identity preferred by the client
    ['gzip, identity;q=0.5', BR_GZIP, 'gzip'],
    ['gzip;q=0.5, identity;q=0.5', BR_GZIP, 'gzip'], // a tie goes to the coding
    ['gzip;q=0.5', BR_GZIP, 'gzip'], // unlisted identity is only the fallback
    // "*"
    ['*', BR_GZIP, 'br'],
    ['*;q=0', BR_GZIP, null],
    ['*;q=0, identity', BR_GZIP, 'identity'], // a more specific entry for identity
    ['*;q=0, gzip', BR_GZIP, 'gzip'],
    ['*, br;q=0', BR_GZIP, 'gzip'],
    ['*;q=0.5', BR_GZIP, 'br'], // identity also gets 0.5; the coding wins the tie
    ['*;q=0.5, identity;q=0.6', BR_GZIP, 'identity'],
    ['gzip;q=1.0, identity; q=0.5, *;q=0', BR_GZIP, 'gzip'], // the RFC's example
    ['gzip;q=1.0, identity; q=0.5, *;q=0', ['br'], 'identity'],
    // case, aliases, whitespace
    ['GZIP', BR_GZIP, 'gzip'],
    ['Br', BR_GZIP, 'br'],
    ['x-gzip', BR_GZIP, 'gzip'], // §8.4.1.3
    ['X-GZIP;q=0.8', BR_GZIP, 'gzip'],
    ['x-gzip;q=0, gzip', BR_GZIP, 'identity'],
    [' gzip ; q=0.5 ', BR_GZIP, 'gzip'],
    ['\tgzip\t', BR_GZIP, 'gzip'],
    [',,gzip,,', BR_GZIP, 'gzip'],
    // malformed members are ignored
    ['gzip;q=1.001', BR_GZIP, 'identity'],
    ['gzip;q=2', BR_GZIP, 'identity'],
    ['gzip;q=0.0001', BR_GZIP, 'identity'],
    ['gzip;q=-1', BR_GZIP, 'identity'],
    ['gzip;q=', BR_GZIP, 'identity'],
    ['gzip;q=abc', BR_GZIP, 'identity'],
    ['gzip;q=.5', BR_GZIP, 'identity'],
    ['gzip; q = 0.5', BR_GZIP, 'identity'],
    ['gzip;level=9', BR_GZIP, 'identity'],
    ['gzip;', BR_GZIP, 'identity'],
    ['gzip br', BR_GZIP, 'identity'],
    ['g zip, br', BR_GZIP, 'br'],
    ['"gzip"', BR_GZIP, 'identity'],
    ['identity;q=x', BR_GZIP, 'identity'], // a malformed refusal refuses nothing
    // what the server offers
    ['gzip', [], 'identity'],
    ['br', ['gzip'], 'identity'],
    ['*;q=0', ['gzip'], null],
    ['*', [], 'identity'],
  ];
  it.each(rows)('%j with %j -> %j', (header, available, expected) => {
    expect(chooseEncoding(header, available)).toBe(expected);
  });
});

describe('chooseEncoding work is bounded', () => {
  // [shape, evaluations, field value, chosen]
  const hostile: Array<[string, number, string, Encoding]> = [
    ['50,000 spaces, then gzip', 1000, `${' '.repeat(50_000)}gzip`, 'gzip'],
    ['1,500 unknown codings, then br', 1000, `${Array.from({ length: 1500 }, (_, i) => `c${i};q=0.5`).join(', ')}, br`, 'br'],
    ['100,000 commas', 100, ','.repeat(100_000), 'identity'],
    ['one 100,000-character coding', 100, 'x'.repeat(100_000), 'identity'],
    ['a 100,000-character parameter', 100, `gzip;q=0.${'5'.repeat(100_000)}`, 'identity'],
  ];
  it.each(hostile)('%s: %i evaluations within 5 s', (_name, evaluations, header, expected) => {
    const chosen = new Set<Encoding | null>();
    const started = performance.now();
    for (let i = 0; i < evaluations; i++) chosen.add(chooseEncoding(header, BR_GZIP));
    expect(performance.now() - started).toBeLessThan(5000); // generous: a quadratic scan would take minutes
    expect([...chosen]).toEqual([expected]);
  });
});

describe('isCompressible', () => {
  const compressible = [
    'text/html',
    'text/html; charset=utf-8',
    'TEXT/CSS',
    'text/plain',
    'text/markdown',
    'text/csv',
    'text/javascript',
    'application/javascript',
    'application/json',
    '  application/json ; charset=utf-8',
    'application/ld+json',
    'application/manifest+json',
    'application/geo+json',
    'application/x-ndjson',
    'application/xml',
    'application/atom+xml',
    'application/xhtml+xml',
    'image/svg+xml',
    'application/wasm',
    'application/yaml',
    'font/ttf',
    'font/otf',
    'application/vnd.ms-fontobject',
    'image/bmp',
    'image/vnd.microsoft.icon',
    'image/x-icon',
  ];
  it.each(compressible)('%j is compressible', (type) => {
    expect(isCompressible(type)).toBe(true);
  });

  const incompressible = [
    '',
    'image/png',
    'image/jpeg',
    'image/gif',
    'image/webp',
    'image/avif',
    'font/woff',
    'font/woff2',
    'application/zip',
    'application/gzip',
    'application/x-gzip',
    'application/zstd',
    'application/x-7z-compressed',
    'application/octet-stream',
    'application/pdf',
    'video/mp4',
    'audio/mpeg',
    'text/event-stream', // must stream event by event
    'text/event-stream; charset=utf-8',
    'application/jsonx', // a prefix is not a match
    'application/json+zip',
  ];
  it.each(incompressible)('%j is not compressible', (type) => {
    expect(isCompressible(type)).toBe(false);
  });

  // What the server will actually decide for common files, through the same mime-types lookup.
  const byExtension: Array<[string, boolean]> = [
    ['index.html', true], ['style.css', true], ['app.js', true], ['app.mjs', true], ['data.json', true],
    ['app.js.map', true], ['icon.svg', true], ['module.wasm', true], ['site.webmanifest', true],
    ['notes.txt', true], ['README.md', true], ['feed.xml', true], ['font.ttf', true], ['favicon.ico', true],
    ['photo.png', false], ['photo.jpg', false], ['photo.webp', false], ['photo.avif', false],
    ['font.woff2', false], ['archive.zip', false], ['archive.gz', false], ['movie.mp4', false], ['paper.pdf', false],
  ];
  it.each(byExtension)('%s -> %s', (file, expected) => {
    const type = lookup(file);
    expect(type).not.toBe(false);
    expect(isCompressible(type as string)).toBe(expected);
  });
});
