/**
 * `queue report`: the HTML report of a queued run, built from the completed jobs' return
 * values (the per-input records the workers wrote), with no model opened and nothing
 * recomputed. Jobs are matched to the run by their output folder.
 */
import { resolve } from 'node:path';
import type { Queue } from 'bullmq';
import { writeReportPages, type InputRecord, type RecordRef, type ReportMeta } from '../app/explain-run.ts';
import { QueueError } from './connection.ts';
import { eachJob } from './status.ts';
import type { JobResult } from './jobs.ts';

export interface QueueReport {
  report: string;
  inputs: number;
  unreadable: number;
  /** Jobs of this run not finished yet (waiting, running or failed): their inputs are missing. */
  unfinished: number;
}

export async function writeQueueReport(queue: Queue, out: string, pageSize?: number): Promise<QueueReport> {
  const dir = resolve(out);
  // The newest record per input name wins (a later run into the same folder overwrote its files).
  const records = new Map<string, { record: InputRecord; finished: number }>();
  const skipped = new Map<string, { name: string; reason: string }>();
  const ms = new Map<string, number>();
  let first: { result: JobResult; title?: string } | undefined;
  for await (const job of eachJob(queue, ['completed'])) {
    if (job.data.out !== dir) continue;
    const r = job.returnvalue;
    first ??= { result: r, ...(job.data.title ? { title: job.data.title } : {}) };
    for (const { record } of r.inputs) {
      const seen = records.get(record.name);
      if (!seen || seen.finished < (job.finishedOn ?? 0)) records.set(record.name, { record, finished: job.finishedOn ?? 0 });
    }
    for (const u of r.unreadable) skipped.set(u.path, { name: u.name, reason: u.reason });
    for (const m of r.methods) ms.set(m.id, (ms.get(m.id) ?? 0) + m.ms);
  }
  let unfinished = 0;
  for await (const job of eachJob(queue, ['waiting', 'prioritized', 'active', 'delayed', 'failed'])) if (job.data.out === dir) unfinished++;
  if (!first) throw new QueueError(`no finished jobs write to '${dir}' in this queue: give the --out folder the run was added with (see convlens queue status)`);
  const refs: RecordRef[] = [...records.values()].map(({ record }) => ({ at: record.at, order: record.order, load: () => record }));
  const meta: ReportMeta = {
    title: first.title ?? `convlens: ${first.result.model.name}`,
    generated: new Date().toISOString(),
    model: first.result.model,
    settings: first.result.settings,
    methods: [...ms.entries()].map(([id, t]) => ({ id, ms: t })),
    skipped: [...skipped.values()],
  };
  const report = await writeReportPages(dir, refs, meta, pageSize);
  return { report, inputs: refs.length, unreadable: skipped.size, unfinished };
}
