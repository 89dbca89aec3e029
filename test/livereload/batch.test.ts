import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChangeBatcher, isStylesheetPath, type BatchTiming } from '../../src/livereload/batch.js';

const TIMING: BatchTiming = { stylesheetQuietMs: 5, quietMs: 20, burstQuietMs: 60, maxDelayMs: 150 };

/**
 * Moves fake time on by `ms`, then lets the event loop poll once (setImmediate is left
 * real): a batch that fell due leaves its flush to after that poll.
 */
async function advance(ms: number): Promise<void> {
  vi.advanceTimersByTime(ms);
  await new Promise<void>((resolve) => setImmediate(resolve));
}

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

  it('flushes a single save once the quiet window has passed', async () => {
    batcher.record('/index.html', 'change');
    await advance(19);
    expect(flushed).toEqual([]);
    await advance(1);
    expect(flushed).toEqual([{ at: 20, paths: ['/index.html'] }]);
  });

  it('keeps a burst of pages together when its writes come up to the burst window apart', async () => {
    for (let i = 0; i < 20; i++) batcher.record(`/js/module-${i}.js`, 'change');
    // A loaded machine: the last writes of the burst come 40 ms later, past the single-save window.
    await advance(40);
    expect(flushed).toEqual([]);
    batcher.record('/index.html', 'change');
    await advance(59);
    expect(flushed).toEqual([]);
    await advance(1);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.at).toBe(100);
    expect(flushed[0]!.paths).toHaveLength(21);
  });

  it('events read just after the timer fell due (the process was held up) join its batch', async () => {
    batcher.record('/js/app.js', 'change');
    // Due at 20 ms: the flush is left to after the next poll for events.
    vi.advanceTimersByTime(20);
    expect(flushed).toEqual([]);
    // That poll reads the rest of the burst, which restarts the quiet window (60 ms: two pages).
    batcher.record('/index.html', 'change');
    await advance(0);
    expect(flushed).toEqual([]);
    await advance(59);
    expect(flushed).toEqual([]);
    await advance(1);
    expect(flushed).toEqual([{ at: 80, paths: ['/js/app.js', '/index.html'] }]);
  });

  it('flushes stylesheets-only batches after the shorter window', async () => {
    batcher.record('/css/site.css', 'change');
    await advance(5);
    expect(flushed).toEqual([{ at: 5, paths: ['/css/site.css'] }]);
  });

  it('waits the longer window as soon as a batch holds something else than stylesheets', async () => {
    batcher.record('/css/site.css', 'change');
    await advance(3);
    batcher.record('/index.html', 'change');
    await advance(19);
    expect(flushed).toEqual([]);
    await advance(1);
    expect(flushed).toEqual([{ at: 23, paths: ['/css/site.css', '/index.html'] }]);
  });

  it('makes one batch of a burst, each path once', async () => {
    for (let i = 0; i < 20; i++) {
      batcher.record(`/page${i}.html`, 'change');
      batcher.record(`/page${i}.html`, 'change');
      await advance(3);
    }
    await advance(100);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.paths).toEqual(Array.from({ length: 20 }, (_, i) => `/page${i}.html`));
  });

  it('flushes at the latest maxDelayMs after the first event of an endless stream', async () => {
    for (let t = 0; t < 400; t += 10) {
      batcher.record(`/log${t}.html`, 'add');
      await advance(10);
    }
    expect(flushed.map((batch) => batch.at)).toEqual([150, 300]);
  });

  it('forgets a file created and removed within the batch (an editor temporary)', async () => {
    batcher.record('/index.html.tmp', 'add');
    batcher.record('/index.html', 'change');
    batcher.record('/index.html.tmp', 'unlink');
    await advance(20);
    expect(flushed).toEqual([{ at: 20, paths: ['/index.html'] }]);
  });

  it('keeps a file removed and created again (a save by replacement), and a plain removal', async () => {
    batcher.record('/a.html', 'unlink');
    batcher.record('/a.html', 'add');
    batcher.record('/b.html', 'unlink');
    // Two pages pending: the burst window applies.
    await advance(59);
    expect(flushed).toEqual([]);
    await advance(1);
    expect(flushed).toEqual([{ at: 60, paths: ['/a.html', '/b.html'] }]);
  });

  it('flushes nothing when every change cancelled out', async () => {
    batcher.record('/x.tmp', 'add');
    batcher.record('/x.tmp', 'unlink');
    await advance(200);
    expect(flushed).toEqual([]);
  });

  it('drops what is pending on close', async () => {
    batcher.record('/index.html', 'change');
    batcher.close();
    await advance(200);
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
