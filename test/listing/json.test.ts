import { describe, expect, it } from 'vitest';
import type { ListingEntry } from '../../src/fs/read-directory.js';
import { renderListingJson } from '../../src/listing/json.js';

const MAY_2024 = Date.UTC(2024, 4, 1, 9, 30, 15, 250);

describe('renderListingJson', () => {
  it('lists path and entries, in the given order, with ISO 8601 times', () => {
    const entries: ListingEntry[] = [
      { name: 'docs', type: 'directory', size: 0, mtimeMs: MAY_2024 },
      { name: 'b.txt', type: 'file', size: 1536, mtimeMs: 0 },
      { name: 'a.txt', type: 'file', size: 3, mtimeMs: MAY_2024 + 0.75 },
    ];
    const json = renderListingJson({ urlPath: '/x/', entries, sort: { key: 'size', order: 'desc' } });
    expect(JSON.parse(json)).toEqual({
      path: '/x/',
      entries: [
        { name: 'docs', type: 'directory', size: 0, mtime: '2024-05-01T09:30:15.250Z' },
        { name: 'b.txt', type: 'file', size: 1536, mtime: '1970-01-01T00:00:00.000Z' },
        { name: 'a.txt', type: 'file', size: 3, mtime: '2024-05-01T09:30:15.250Z' },
      ],
      offset: 0,
      total: 3,
      next: null,
    });
  });

  it.each(['<script>"&\'', 'new\nline', '\u202Eevil', '😀 中文 e\u0301', '%2e%2e', '\\'])('keeps the name %j exactly', (name) => {
    const json = renderListingJson({ urlPath: `/${name}/`, entries: [{ name, type: 'file', size: 1, mtimeMs: 0 }], sort: { key: 'name', order: 'asc' } });
    const parsed = JSON.parse(json) as { path: string; entries: { name: string }[] };
    expect(parsed.path).toBe(`/${name}/`);
    expect(parsed.entries[0]?.name).toBe(name);
  });

  it('gives null for an mtime no Date can hold, rather than failing', () => {
    const json = renderListingJson({ urlPath: '/', entries: [{ name: 'far', type: 'file', size: 0, mtimeMs: 9e15 }], sort: { key: 'name', order: 'asc' } });
    expect(JSON.parse(json).entries[0].mtime).toBeNull();
  });

  it('renders an empty folder', () => {
    expect(JSON.parse(renderListingJson({ urlPath: '/', entries: [], sort: { key: 'name', order: 'asc' } }))).toEqual({
      path: '/',
      entries: [],
      offset: 0,
      total: 0,
      next: null,
    });
  });

  it('gives the window of a capped page and the query of the next one', () => {
    const entries: ListingEntry[] = [{ name: 'b', type: 'file', size: 1, mtimeMs: 0 }];
    const sort = { key: 'size', order: 'desc' } as const;
    const middle = JSON.parse(renderListingJson({ urlPath: '/', entries, sort, window: { offset: 2, total: 5, pageSize: 1 } }));
    expect(middle).toMatchObject({ offset: 2, total: 5, next: '?sort=size&order=desc&offset=3' });
    const last = JSON.parse(renderListingJson({ urlPath: '/', entries, sort, window: { offset: 4, total: 5, pageSize: 1 } }));
    expect(last).toMatchObject({ offset: 4, total: 5, next: null });
  });
});
