/**
 * One heavy computation at a time (model loads, predictions, explanations, activations):
 * onnxruntime already uses every core for one run, so running two at once only makes
 * both slower. Later jobs wait in arrival order; a job whose client went away before it
 * started is dropped without running.
 */
export class QueueAbortError extends Error {
  override name = 'QueueAbortError';
}

interface Pending {
  run: () => Promise<void>;
  signal: AbortSignal | undefined;
  drop: () => void;
}

export class JobQueue {
  private readonly pending: Pending[] = [];
  private running = false;
  /** Jobs dropped because their signal aborted while they waited. */
  dropped = 0;
  done = 0;

  get status(): { running: boolean; waiting: number; dropped: number; done: number } {
    return { running: this.running, waiting: this.pending.length, dropped: this.dropped, done: this.done };
  }

  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new QueueAbortError('the client went away'));
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        signal,
        run: () => job().then(resolve, reject),
        drop: () => reject(new QueueAbortError('the client went away')),
      };
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.pending.indexOf(entry);
          if (i < 0) return; // already running: let it finish
          this.pending.splice(i, 1);
          this.dropped++;
          entry.drop();
        },
        { once: true },
      );
      this.pending.push(entry);
      this.next();
    });
  }

  private next(): void {
    if (this.running) return;
    const entry = this.pending.shift();
    if (!entry) return;
    this.running = true;
    void entry.run().finally(() => {
      this.running = false;
      this.done++;
      this.next();
    });
  }
}
