/**
 * A queue worker: pulls explain jobs from BullMQ, keeps each model it opened (per model hash
 * and input settings, so compiled graphs are reused across jobs), runs the streaming
 * pipeline on the job's inputs and returns the per-input records.
 *
 * Nothing is lost or done twice: every file is written to a per-job temporary folder and
 * renamed into place, so an output is whole or absent; a killed worker's job is picked up
 * again by BullMQ's stalled-job check (its temporary folder is cleared first) and rewrites
 * the same names; a job that keeps failing lands in the failed set after its attempts.
 */
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker, WaitingError, type Job } from 'bullmq';
import type { Lens } from '../app/lens.ts';
import type { ReportData } from '../report/types.ts';
import { explainEntries, reportModel, settingsOf, type ExplainRunOptions } from '../app/explain-run.ts';
import { CancelledError } from '../methods/context.ts';
import { connectionOf, defaultQueueName } from './connection.ts';
import { fileHash, type JobData, type JobResult, type RunSettings } from './jobs.ts';
import { QueueError } from './connection.ts';
import { localize } from './remote-inputs.ts';

export interface WorkerOptions {
  queueName?: string;
  /** Jobs run at once by this process (they share its opened models). */
  concurrency?: number;
  /** How long a job's lock lives without renewal (ms): a dead worker's job is retried after it. */
  lockDuration?: number;
  /** Times a job may be found stalled (its worker died) before it fails. */
  maxStalledCount?: number;
  /** Opens a model for the job's settings (the CLI passes its own, which reads labels files). */
  open: (settings: RunSettings) => Promise<Lens>;
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** Stop taking jobs and finish the running ones; with `now`, put them back on the queue. */
  close(now?: boolean): Promise<void>;
  /** Jobs this worker completed or failed so far. */
  readonly counts: { completed: number; failed: number };
}

const runOptions = (d: RunSettings, tempDir: string, signal: AbortSignal): ExplainRunOptions => ({
  methods: d.methods,
  out: d.out,
  raw: d.render.raw,
  colormap: d.render.colormap,
  alpha: d.render.alpha,
  options: d.options,
  startedAt: d.startedAt,
  tempDir,
  signal,
});

export function startWorker(url: string, options: WorkerOptions): RunningWorker {
  const log = options.log ?? (() => undefined);
  /** Opened models, with what the report says about each (computed once). */
  const lenses = new Map<string, Promise<{ lens: Lens; model: ReportData['model'] }>>();
  const stop = new AbortController();
  const me = `${hostname()}:${process.pid}`;

  const lensFor = (d: RunSettings): Promise<{ lens: Lens; model: ReportData['model'] }> => {
    const key = JSON.stringify([d.modelHash, d.model, d.input]);
    let lens = lenses.get(key);
    if (!lens) {
      lens = (async () => {
        // The file must still be the model the run was queued with.
        const hash = await fileHash(d.model);
        if (hash !== d.modelHash) throw new QueueError(`model '${d.model}' changed since the run was queued: queue the run again (convlens queue add)`);
        const lens = await options.open(d);
        return { lens, model: await reportModel(lens) };
      })();
      lenses.set(key, lens);
      lens.catch(() => lenses.delete(key));
    }
    return lens;
  };

  const processJob = async (job: Job<JobData, JobResult>, token?: string): Promise<JobResult> => {
    const t0 = performance.now();
    const d = job.data;
    const { lens, model } = await lensFor(d);
    log(`running ${job.id}: ${d.entries.length} input(s)`);
    const tempDir = join(d.out, '.convlens', 'tmp', job.id!);
    rmSync(tempDir, { recursive: true, force: true }); // what an attempt killed mid-write left
    mkdirSync(tempDir, { recursive: true });
    let last = 0;
    try {
      const t1 = performance.now();
      const remote = await localize(d.entries, tempDir);
      // Downloaded inputs are reported by their URL.
      const given = new Map(remote.entries.map((e) => [e.path, d.entries.find((o) => o.name === e.name)!.path]));
      const result = await explainEntries(lens, remote.entries, {
        ...runOptions(d, tempDir, stop.signal),
        onProgress: (fraction) => {
          const now = performance.now();
          if (now - last < 500) return;
          last = now;
          job.updateProgress(Math.round(100 * fraction)).catch(() => undefined);
        },
      }, d.firstOrder);
      const pipelineMs = performance.now() - t1;
      const outputs = (r: (typeof result.records)[number]) => [r.image.src, ...r.cells.flatMap((c) => (d.render.raw ? [c.src, c.src.replace(/\.png$/, '.npy')] : [c.src]))];
      return {
        inputs: result.records.map((record) => ({ record, outputs: outputs(record) })),
        unreadable: [...remote.unreadable, ...result.skipped.map((u) => ({ ...u, path: given.get(u.path) ?? u.path }))],
        methods: d.methods.map((id) => ({ id, ms: result.ms.get(id) ?? 0 })),
        pipelineMs,
        ms: performance.now() - t0,
        worker: me,
        model,
        settings: settingsOf(lens, runOptions(d, tempDir, stop.signal)),
      };
    } catch (e) {
      // Stopped by a second SIGTERM: back to the queue, no attempt spent.
      if (e instanceof CancelledError && stop.signal.aborted && token) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      throw e;
    } finally {
      rmSync(tempDir, { recursive: true, force: true });
      try {
        rmdirSync(dirname(tempDir)); // the last job out leaves no temporary folder
      } catch {
        // other jobs are still writing
      }
    }
  };

  const lockDuration = options.lockDuration ?? 30_000;
  const worker = new Worker<JobData, JobResult>(options.queueName ?? defaultQueueName, processJob, {
    connection: connectionOf(url),
    concurrency: options.concurrency ?? 1,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: options.maxStalledCount ?? 2,
  });
  const counts = { completed: 0, failed: 0 };
  worker.on('completed', (job) => {
    counts.completed++;
    const r = job.returnvalue;
    log(`done ${job.id}: ${r.inputs.length} input(s)${r.unreadable.length ? `, ${r.unreadable.length} unreadable` : ''} in ${(r.ms / 1000).toFixed(1)} s`);
  });
  worker.on('failed', (job, error) => {
    counts.failed++;
    log(`failed ${job?.id ?? '?'} (attempt ${job?.attemptsMade ?? '?'}): ${error.message}`);
  });
  worker.on('error', (error) => log(`queue error: ${error.message}`));

  return {
    counts,
    async close(now = false) {
      if (now) stop.abort();
      await worker.close();
      await Promise.all([...lenses.values()].map((l) => l.then((x) => x.lens.release(), () => undefined)));
    },
  };
}
