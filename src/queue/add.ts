/**
 * `queue add`: discover the inputs (files, folders, http(s) URLs), cut them into jobs with content-derived ids, and add the
 * jobs that the queue does not hold yet. Jobs already waiting, running or completed are left
 * alone (re-adding the same work is a no-op); a job that failed is retried.
 */
import type { Queue } from 'bullmq';
import { discoverInputs } from '../input/load-input.ts';
import { getMethod, optionsFor } from '../methods/registry.ts';
import { validateOptions } from '../methods/options.ts';
import { fileHash, planJobs, type RunSettings } from './jobs.ts';
import { isUrl, urlEntries } from './remote-inputs.ts';

export interface AddOptions {
  batchSize: number;
  /** Runs of a job before it lands in the failed set (a stalled run counts too). */
  attempts: number;
}

export interface AddSummary {
  jobs: number;
  inputs: number;
  added: number;
  /** Jobs the queue already held (waiting, running or done): nothing added. */
  existing: number;
  /** Jobs that had failed and were queued again. */
  retried: number;
}

export async function addRun(queue: Queue, model: string, inputs: readonly string[], settings: Omit<RunSettings, 'modelHash' | 'startedAt'>, options: AddOptions): Promise<AddSummary> {
  // Unknown methods and bad option values fail before anything is queued.
  for (const id of settings.methods) {
    const method = getMethod(id);
    validateOptions(method.id, method.options, optionsFor(id, settings.options));
  }
  const urls = inputs.filter(isUrl);
  const files = inputs.filter((i) => !isUrl(i));
  const local = files.length || !urls.length ? await discoverInputs(files) : [];
  const entries = [...local, ...urlEntries(urls, local.map((e) => e.name))];
  const run: RunSettings = { ...settings, modelHash: await fileHash(model), startedAt: new Date().toISOString() };
  const jobs = await planJobs(run, entries, options.batchSize);
  const summary: AddSummary = { jobs: jobs.length, inputs: entries.length, added: 0, existing: 0, retried: 0 };
  for (const { id, data } of jobs) {
    const found = await queue.getJob(id);
    if (found && (await found.getState()) === 'failed') {
      await found.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      summary.retried++;
    } else if (found) summary.existing++;
    else {
      await queue.add('explain', data, { jobId: id, attempts: options.attempts, backoff: { type: 'exponential', delay: 1000 } });
      summary.added++;
    }
  }
  return summary;
}
