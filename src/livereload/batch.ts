// Turns a stream of file events into batches, so that one save, or a tool writing twenty
// files at once, tells the pages once.
//
// A batch closes when no event has come for a short quiet window, or at the latest a fixed
// time after its first event (so a process that never stops writing still gets pages
// updated). There is no fixed delay before the first flush: a single save is announced as
// soon as the window after it has passed.
//
// The window depends on what is pending. A batch of stylesheets only is applied in place by
// the pages (no reload), so closing it early costs nothing if more files follow: the next
// batch reloads once. A batch that will reload pages waits a little longer, because two
// batches there mean two reloads.

/** What happened to a path, as the watcher reports it. */
export type ChangeKind = 'add' | 'change' | 'unlink';

export interface BatchTiming {
  /** Quiet window for a batch of stylesheets only (swapped in place by the pages). */
  stylesheetQuietMs: number;
  /** Quiet window for a single changed page or script (pages reload). */
  quietMs: number;
  /**
   * Quiet window once several files that reload pages are pending: a tool is
   * writing a burst, and on a busy machine its writes can come further apart
   * than `quietMs`; closing the batch early would reload the pages twice.
   */
  burstQuietMs: number;
  /** A batch is flushed at the latest this long after its first event. */
  maxDelayMs: number;
}

/**
 * Measured on a 2-core machine: twenty files written at once reach us within 2 ms, with gaps
 * under 0.5 ms; twenty written one after the other (awaiting each write) arrive 2-5 ms apart.
 * But with the machine loaded, a burst's writes were seen more than 20 ms apart and split in
 * two batches (two reloads). So a single save waits 20 ms (save -> reloaded page stays under
 * 80 ms), and a batch that already holds several pages waits 60 ms of quiet; 5 ms keeps
 * save -> new CSS under 30 ms. The 150 ms cap is above the 65 ms a sequential writer took.
 */
export const DEFAULT_BATCH_TIMING: BatchTiming = { stylesheetQuietMs: 5, quietMs: 20, burstQuietMs: 60, maxDelayMs: 150 };

export function isStylesheetPath(urlPath: string): boolean {
  return urlPath.length > 4 && urlPath.slice(-4).toLowerCase() === '.css';
}

export class ChangeBatcher {
  /** Pending paths, each with whether it was created during this batch. */
  readonly #pending = new Map<string, boolean>();
  #onlyStylesheets = true;
  #firstEventAt = 0;
  #lastEventAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Set once the batch is due: the flush waits for the event loop's next poll for events. */
  #afterPoll: NodeJS.Immediate | undefined;

  constructor(
    private readonly flush: (urlPaths: string[]) => void,
    private readonly timing: BatchTiming = DEFAULT_BATCH_TIMING,
  ) {}

  record(urlPath: string, kind: ChangeKind): void {
    const now = performance.now();
    const open = this.#timer !== undefined || this.#afterPoll !== undefined;
    if (!open) {
      this.#firstEventAt = now;
      this.#onlyStylesheets = true;
    }
    this.#lastEventAt = now;
    this.#onlyStylesheets &&= isStylesheetPath(urlPath);

    const createdInBatch = this.#pending.get(urlPath);
    if (kind === 'unlink' && createdInBatch === true) {
      // Created and removed within the batch (an editor's temporary file): nothing changed.
      this.#pending.delete(urlPath);
    } else if (createdInBatch === undefined) {
      this.#pending.set(urlPath, kind === 'add');
    }

    if (!open) this.#timer = setTimeout(() => this.#onTimer(), this.#quietMs());
  }

  /** Drops whatever is pending without flushing it. */
  close(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#afterPoll);
    this.#timer = undefined;
    this.#afterPoll = undefined;
    this.#pending.clear();
  }

  #quietMs(): number {
    if (this.#onlyStylesheets) return this.timing.stylesheetQuietMs;
    let reloading = 0;
    for (const urlPath of this.#pending.keys()) if (!isStylesheetPath(urlPath) && ++reloading > 1) return this.timing.burstQuietMs;
    return this.timing.quietMs;
  }

  /** Arms the timer again if the batch is not yet due, and says whether it was not. */
  #rearmIfEarly(): boolean {
    const flushAt = Math.min(this.#lastEventAt + this.#quietMs(), this.#firstEventAt + this.timing.maxDelayMs);
    const remaining = flushAt - performance.now();
    // Timers have millisecond resolution; less than that left counts as due.
    if (remaining < 1) return false;
    this.#timer = setTimeout(() => this.#onTimer(), Math.ceil(remaining));
    return true;
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#rearmIfEarly()) return;
    // The event loop runs due timers before it reads new events. After this process was
    // held up (a busy machine), the timer is due and the rest of a burst is still unread:
    // flushing now would cut the burst in two, and reload the pages twice. So the flush
    // comes after the next poll, once what it reads has moved the quiet window on.
    this.#afterPoll = setImmediate(() => this.#onPolled());
  }

  #onPolled(): void {
    this.#afterPoll = undefined;
    if (this.#rearmIfEarly()) return;
    const urlPaths = [...this.#pending.keys()];
    this.#pending.clear();
    if (urlPaths.length > 0) this.flush(urlPaths);
  }
}
