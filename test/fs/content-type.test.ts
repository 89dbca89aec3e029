import mime from 'mime-types';
import { describe, expect, it } from 'vitest';
import { COMMON_TYPES, contentTypeFor } from '../../src/fs/content-type.js';

describe('contentTypeFor', () => {
  it.each([...COMMON_TYPES].filter(([extension]) => extension !== ''))(
    'the built-in type for %s agrees with mime-types',
    (extension, type) => {
      expect(type).toBe(mime.contentType(extension) || 'application/octet-stream');
    },
  );

  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['INDEX.HTML', 'text/html; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
    ['data.csv', 'text/csv; charset=utf-8'],
    ['photo.tiff', 'image/tiff'],
    ['archive.tar.gz', 'application/gzip'],
    ['Makefile', 'application/octet-stream'],
    ['.env', 'application/octet-stream'],
    ['file.unknown-extension', 'application/octet-stream'],
  ])('%s is served as %s', (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });
});
