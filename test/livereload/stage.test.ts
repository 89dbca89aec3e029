import { describe, expect, it } from 'vitest';
import { LIVERELOAD_PREFIX } from '../../src/livereload/index.js';
import { LIVERELOAD_PREFIX as STAGE_PREFIX } from '../../src/stages/livereload.js';

describe('live-reload stage', () => {
  it('recognises the same reserved prefix as the module it loads lazily', () => {
    expect(STAGE_PREFIX).toBe(LIVERELOAD_PREFIX);
  });
});
