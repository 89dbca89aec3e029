import { describe, expect, it } from 'vitest';
import { nextPageQuery, parseOffsetQuery, previousPageQuery } from '../../src/listing/paging.js';

describe('parseOffsetQuery', () => {
  // [query, offset]
  it.each([
    ['', 0],
    ['offset=0', 0],
    ['offset=10000', 10_000],
    ['sort=size&offset=20000&order=desc', 20_000],
    ['offset=00042', 42],
    ['offset=-1', 0],
    ['offset=1.5', 0],
    ['offset=1e3', 0],
    ['offset=', 0],
    ['offset=abc', 0],
    ['offset=9999999999999999', 0],
    ['offset=5&offset=7', 5],
  ] as const)('%j → %d', (query, offset) => {
    expect(parseOffsetQuery(query)).toBe(offset);
  });
});

describe('next and previous pages', () => {
  const sort = { key: 'name', order: 'asc' } as const;
  // [offset, total, pageSize, next, previous]
  it.each([
    [0, 5, 10, null, null],
    [0, 10, 10, null, null],
    [0, 11, 10, '?sort=name&order=asc&offset=10', null],
    [10, 11, 10, null, '?sort=name&order=asc&offset=0'],
    [15, 40, 10, '?sort=name&order=asc&offset=25', '?sort=name&order=asc&offset=5'],
    [100, 11, 10, null, '?sort=name&order=asc&offset=1'],
  ] as const)('offset %d of %d, %d a page', (offset, total, pageSize, next, previous) => {
    expect(nextPageQuery(sort, { offset, total, pageSize })).toBe(next);
    expect(previousPageQuery(sort, { offset, total, pageSize })).toBe(previous);
  });
});
