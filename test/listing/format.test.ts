import { describe, expect, it } from 'vitest';
import { escapeHtml, formatDate, formatSize, isoTimestamp, visibleName } from '../../src/listing/format.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * KiB - 1, '10.0 KiB'],
    [1000 * KiB, '1000.0 KiB'],
    // Rounds to 1024.0 KiB: shown in the next unit instead.
    [MiB - 1, '1.0 MiB'],
    [MiB - 52, '1023.9 KiB'],
    [MiB, '1.0 MiB'],
    [1.5 * MiB, '1.5 MiB'],
    [123_456_789, '117.7 MiB'],
    [GiB - 1, '1.0 GiB'],
    [GiB, '1.0 GiB'],
    [5.25 * GiB, '5.3 GiB'],
    [1023 * GiB, '1023.0 GiB'],
    [TiB, '1.0 TiB'],
    [Number.MAX_SAFE_INTEGER, '8.0 PiB'],
  ])('%d bytes is %s', (bytes, expected) => {
    expect(formatSize(bytes)).toBe(expected);
  });
});

describe('isoTimestamp', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [1714555800123.7, '2024-05-01T09:30:00.123Z'],
    [8.64e15, '+275760-09-13T00:00:00.000Z'],
    // Beyond what a Date holds (some file systems store such mtimes): null, not a RangeError.
    [8.64e15 + 1, null],
    [Number.NaN, null],
  ])('%d ms is %s', (mtimeMs, expected) => {
    expect(isoTimestamp(mtimeMs)).toBe(expected);
  });
});

describe('formatDate', () => {
  it.each([
    ['2024-05-01T09:30:00.000Z', '2024-05-01 09:30'],
    // Minutes are truncated, as ls does: a file never looks newer than it is.
    ['2024-05-01T09:30:59.999Z', '2024-05-01 09:30'],
    ['1969-12-31T23:59:59.999Z', '1969-12-31 23:59'],
    ['+275760-09-13T00:00:00.000Z', '+275760-09-13 00:00'],
    ['-000001-01-01T00:00:00.000Z', '-000001-01-01 00:00'],
  ])('%s is shown as %s', (iso, expected) => {
    expect(formatDate(iso)).toBe(expected);
  });
});

describe('escapeHtml', () => {
  it.each([
    ['plain name.txt', 'plain name.txt'],
    ['<script>alert(1)', '&lt;script&gt;alert(1)'],
    ['say "hi"', 'say &quot;hi&quot;'],
    ["it's", 'it&#39;s'],
    ['Tom & Jerry', 'Tom &amp; Jerry'],
    ['&amp;', '&amp;amp;'],
    ['a=b;c?d#e%f', 'a=b;c?d#e%f'],
    ['中文 😀 é', '中文 😀 é'],
  ])('%j becomes %j', (text, expected) => {
    expect(escapeHtml(text)).toBe(expected);
  });
});

describe('visibleName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['line\nbreak', 'line\u240abreak'],
    ['tab\there', 'tab\u2409here'],
    ['\u001b[31mred', '\u241b[31mred'],
    ['delete\u007f', 'delete\u2421'],
    ['\r\n', '\u240d\u240a'],
    ['e\u0301 中文 😀', 'e\u0301 中文 😀'],
    // Bidi overrides would make this read "exe.png".
    ['\u202Egnp.exe', '\ufffdgnp.exe'],
    ['a\u202Ab\u202Bc\u202Cd\u202De', 'a\ufffdb\ufffdc\ufffdd\ufffde'],
    ['\u2066x\u2067y\u2068z\u2069', '\ufffdx\ufffdy\ufffdz\ufffd'],
    // Right-to-left text and the weak marks it needs are left alone.
    ['تقرير.pdf', 'تقرير.pdf'],
    ['\u200Fעברית\u200E', '\u200Fעברית\u200E'],
  ])('%j is shown as %j', (name, expected) => {
    expect(visibleName(name)).toBe(expected);
  });
});
