import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChangeBatcher, isStylesheetPath, type BatchTiming } from '../../src/livereload/batch.js';

const TIMING: BatchTiming = { stylesheetQuietMs: 5, quietMs: 20, burstQuietMs: 60, maxDelayMs: 150 };

describe('ChangeBatcher', () => {
  let flushed: { at: number; paths: string[] }[];
  let batcher: ChangeBatcher;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    flushed = [];
    batcher = new ChangeBatcher((paths) => flushed.push({ at: performance.now(), paths }), TIMING);
  });
  afterEach(() => {
    batcher.close();
    vi.useRealTimers();
  });

  it('flushes a single save once the quiet window has passed', () => {
    batcher.record('/index.html', 'change');
    vi.advanceTimersByTime(19);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual([{ at: 20, paths: ['/index.html'] }]);
  });

  it('keeps a burst of pages together when its writes come up to the burst window apart', () => {
    for (let i = 0; i < 20; i++) batcher.record(`/js/module-${i}.js`, 'change');
    // A loaded machine: the last writes of the burst come 40 ms later, past the single-save window.
    vi.advanceTimersByTime(40);
    expect(flushed).toEqual([]);
    batcher.record('/index.html', 'change');
    vi.advanceTimersByTime(59);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.at).toBe(100);
    expect(flushed[0]!.paths).toHaveLength(21);
  });

  it('flushes stylesheets-only batches after the shorter window', () => {
    batcher.record('/css/site.css', 'change');
    vi.advanceTimersByTime(5);
    expect(flushed).toEqual([{ at: 5, paths: ['/css/site.css'] }]);
  });

  it('waits the longer window as soon as a batch holds something else than stylesheets', () => {
    batcher.record('/css/site.css', 'change');
    vi.advanceTimersByTime(3);
    batcher.record('/index.html', 'change');
    vi.advanceTimersByTime(19);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual([{ at: 23, paths: ['/css/site.css', '/index.html'] }]);
  });

  it('makes one batch of a burst, each path once', () => {
    for (let i = 0; i < 20; i++) {
      batcher.record(`/page${i}.html`, 'change');
      batcher.record(`/page${i}.html`, 'change');
      vi.advanceTimersByTime(3);
    }
    vi.advanceTimersByTime(100);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.paths).toEqual(Array.from({ length: 20 }, (_, i) => `/page${i}.html`));
  });

  it('flushes at the latest maxDelayMs after the first event of an endless stream', () => {
    for (let t = 0; t < 400; t += 10) {
      batcher.record(`/log${t}.html`, 'add');
      vi.advanceTimersByTime(10);
    }
    expect(flushed.map((batch) => batch.at)).toEqual([150, 300]);
  });

  it('forgets a file created and removed within the batch (an editor temporary)', () => {
    batcher.record('/index.html.tmp', 'add');
    batcher.record('/index.html', 'change');
    batcher.record('/index.html.tmp', 'unlink');
    vi.advanceTimersByTime(20);
    expect(flushed).toEqual([{ at: 20, paths: ['/index.html'] }]);
  });

  it('keeps a file removed and created again (a save by replacement), and a plain removal', () => {
    batcher.record('/a.html', 'unlink');
    batcher.record('/a.html', 'add');
    batcher.record('/b.html', 'unlink');
    // Two pages pending: the burst window applies.
    vi.advanceTimersByTime(59);
    expect(flushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual([{ at: 60, paths: ['/a.html', '/b.html'] }]);
  });

  it('flushes nothing when every change cancelled out', () => {
    batcher.record('/x.tmp', 'add');
    batcher.record('/x.tmp', 'unlink');
    vi.advanceTimersByTime(200);
    expect(flushed).toEqual([]);
  });

  it('drops what is pending on close', () => {
    batcher.record('/index.html', 'change');
    batcher.close();
    vi.advanceTimersByTime(200);
    expect(flushed).toEqual([]);
  });
});

describe('isStylesheetPath', () => {
  it.each([
    ['/css/site.css', true],
    ['/SITE.CSS', true],
    ['/a.scss', false],
    ['/css/', false],
    ['/.css', true],
    ['.css', false],
  ])('%s -> %s', (urlPath, expected) => {
    expect(isStylesheetPath(urlPath)).toBe(expected);
  });
});
