import { describe, expect, it } from 'vitest';
import type { ListingEntry } from '../../src/fs/read-directory.js';
import { compareNatural, parseSortQuery, sortEntries, type SortSpec } from '../../src/listing/sort.js';

describe('parseSortQuery', () => {
  it.each<[string, SortSpec]>([
    ['', { key: 'name', order: 'asc' }],
    ['sort=name', { key: 'name', order: 'asc' }],
    ['sort=size', { key: 'size', order: 'asc' }],
    ['sort=mtime&order=desc', { key: 'mtime', order: 'desc' }],
    ['order=desc&sort=size', { key: 'size', order: 'desc' }],
    ['order=desc', { key: 'name', order: 'desc' }],
    // Each parameter falls back on its own.
    ['sort=bogus&order=desc', { key: 'name', order: 'desc' }],
    ['sort=size&order=down', { key: 'size', order: 'asc' }],
    // Values are exact: no case folding, no trimming, no prototype keys.
    ['sort=SIZE&order=DESC', { key: 'name', order: 'asc' }],
    ['sort=size%20&order=desc%00', { key: 'name', order: 'asc' }],
    ['sort=constructor', { key: 'name', order: 'asc' }],
    ['sort=__proto__&order=toString', { key: 'name', order: 'asc' }],
    // Percent-encoding is decoded as in any query.
    ['sort=%73ize&order=%64esc', { key: 'size', order: 'desc' }],
    // The first occurrence wins.
    ['sort=size&sort=mtime', { key: 'size', order: 'asc' }],
    ['sort', { key: 'name', order: 'asc' }],
    ['&&==%%zz&sort=mtime', { key: 'mtime', order: 'asc' }],
    ['live=1&sort=mtime&order=desc', { key: 'mtime', order: 'desc' }],
  ])('%j → %j', (query, expected) => {
    expect(parseSortQuery(query)).toEqual(expected);
  });
});

const file = (name: string, size = 0, mtimeMs = 0): ListingEntry => ({ name, type: 'file', size, mtimeMs });
const folder = (name: string, mtimeMs = 0): ListingEntry => ({ name, type: 'directory', size: 0, mtimeMs });
const names = (entries: ListingEntry[]) => entries.map((entry) => entry.name);

describe('sortEntries', () => {
  const mixed = [
    file('file10.txt', 300, 3000),
    folder('zeta', 5000),
    file('File2.txt', 100, 1000),
    folder('Alpha', 1000),
    file('file1.txt', 200, 2000),
    folder('beta10', 3000),
    folder('beta9', 4000),
  ];

  it.each<[string, SortSpec, string[]]>([
    ['name asc: folders first, natural, case-insensitive', { key: 'name', order: 'asc' },
      ['Alpha', 'beta9', 'beta10', 'zeta', 'file1.txt', 'File2.txt', 'file10.txt']],
    ['name desc: folders still first', { key: 'name', order: 'desc' },
      ['zeta', 'beta10', 'beta9', 'Alpha', 'file10.txt', 'File2.txt', 'file1.txt']],
    ['size asc: folders (all 0) by name', { key: 'size', order: 'asc' },
      ['Alpha', 'beta9', 'beta10', 'zeta', 'File2.txt', 'file1.txt', 'file10.txt']],
    ['size desc: folders keep name order', { key: 'size', order: 'desc' },
      ['Alpha', 'beta9', 'beta10', 'zeta', 'file10.txt', 'file1.txt', 'File2.txt']],
    ['mtime asc', { key: 'mtime', order: 'asc' },
      ['Alpha', 'beta10', 'beta9', 'zeta', 'File2.txt', 'file1.txt', 'file10.txt']],
    ['mtime desc', { key: 'mtime', order: 'desc' },
      ['zeta', 'beta9', 'beta10', 'Alpha', 'file10.txt', 'file1.txt', 'File2.txt']],
  ])('%s', (_label, spec, expected) => {
    expect(names(sortEntries(mixed, spec))).toEqual(expected);
  });

  it('breaks size and date ties by name, ascending, in both orders', () => {
    const tied = [file('b', 5, 7), file('a10', 5, 7), file('a9', 5, 7), file('big', 9, 9)];
    expect(names(sortEntries(tied, { key: 'size', order: 'asc' }))).toEqual(['a9', 'a10', 'b', 'big']);
    expect(names(sortEntries(tied, { key: 'size', order: 'desc' }))).toEqual(['big', 'a9', 'a10', 'b']);
    expect(names(sortEntries(tied, { key: 'mtime', order: 'desc' }))).toEqual(['big', 'a9', 'a10', 'b']);
  });

  it('orders names that differ only in case or leading zeros by their raw code units, deterministically', () => {
    const entries = [file('a'), file('B'), file('A'), file('b'), file('x2'), file('x02'), file('x002')];
    const ascending = ['A', 'a', 'B', 'b', 'x002', 'x02', 'x2'];
    expect(names(sortEntries(entries, { key: 'name', order: 'asc' }))).toEqual(ascending);
    expect(names(sortEntries([...entries].reverse(), { key: 'name', order: 'asc' }))).toEqual(ascending);
    expect(names(sortEntries(entries, { key: 'name', order: 'desc' }))).toEqual([...ascending].reverse());
  });

  it('returns a new array and leaves the input alone', () => {
    const input = [file('b'), file('a')];
    const sorted = sortEntries(input, { key: 'name', order: 'asc' });
    expect(sorted).not.toBe(input);
    expect(names(input)).toEqual(['b', 'a']);
  });
});

describe('compareNatural', () => {
  it.each<[string, string, '<' | '=' | '>']>([
    ['file2', 'file10', '<'],
    ['file10', 'file9', '>'],
    ['2', '10', '<'],
    ['a', 'a1', '<'],
    ['a1b', 'a1c', '<'],
    ['a02', 'a2', '='], // equal value: the caller tells them apart by raw name
    ['a0', 'a00', '='],
    ['a0', 'a1', '<'],
    ['v1.10.0', 'v1.9.3', '>'],
    ['img12', 'img012x', '<'],
    // Numbers longer than any integer type still compare by value.
    ['n99999999999999999999999999999999999999', 'n100000000000000000000000000000000000000', '<'],
    ['abc', 'abd', '<'],
    ['', 'a', '<'],
    ['', '', '='],
    // Not locale-aware: code unit order, so it is the same everywhere.
    ['z', 'é', '<'],
    ['_a', 'a', '<'],
    ['1', 'a', '<'],
    // Only ASCII digits are numbers.
    ['a٢', 'a10', '>'],
  ])('%j %s %j', (a, b, relation) => {
    const sign = Math.sign(compareNatural(a, b));
    expect(sign).toBe(relation === '<' ? -1 : relation === '>' ? 1 : 0);
    expect(Math.sign(compareNatural(b, a))).toBe(-sign || 0);
  });
});
