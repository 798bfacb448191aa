/**
 * `queue status`: job counts by state, inputs explained / unreadable / to go, the recent
 * rate and the time left, and every failure with its one-line reason. Read from the queue
 * alone (job data and return values), page by page.
 */
import type { Job, JobType, Queue } from 'bullmq';
import type { JobData, JobResult } from './jobs.ts';

export interface QueueStatus {
  jobs: { waiting: number; active: number; delayed: number; completed: number; failed: number; total: number };
  /** Input files (a .npy holding several inputs counts once). */
  inputs: { total: number; explained: number; unreadable: number; inFailedJobs: number; toGo: number };
  /** Inputs per second over the last `window` seconds of finished jobs, and the time left at that rate. */
  rate?: { inputsPerSecond: number; window: number; secondsLeft: number };
  /** Running jobs and how far they are (percent, as their workers report it). */
  running: { job: string; progress: number }[];
  failures: { job: string; attempts: number; reason: string }[];
  unreadable: { path: string; reason: string }[];
  workers: number;
}

const pending: JobType[] = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children'];

/** Every job in the given states, fetched `page` at a time. */
export async function* eachJob(queue: Queue, types: JobType[], page = 500): AsyncGenerator<Job<JobData, JobResult>> {
  for (let start = 0; ; start += page) {
    const jobs = (await queue.getJobs(types, start, start + page - 1, true)) as Job<JobData, JobResult>[];
    for (const job of jobs) if (job) yield job;
    if (jobs.length < page) return;
  }
}

export async function queueStatus(queue: Queue, window = 300): Promise<QueueStatus> {
  const c = await queue.getJobCounts(...pending, 'completed', 'failed');
  const n = (k: string) => c[k] ?? 0;
  const jobs = {
    waiting: n('waiting') + n('prioritized') + n('waiting-children'),
    active: n('active'),
    delayed: n('delayed'),
    completed: n('completed'),
    failed: n('failed'),
    total: 0,
  };
  jobs.total = jobs.waiting + jobs.active + jobs.delayed + jobs.completed + jobs.failed;
  const inputs = { total: 0, explained: 0, unreadable: 0, inFailedJobs: 0, toGo: 0 };
  const unreadable: QueueStatus['unreadable'] = [];
  const failures: QueueStatus['failures'] = [];
  const now = Date.now();
  let recentInputs = 0;
  let recentStart = now;
  let lastFinished = 0;
  for await (const job of eachJob(queue, pending)) inputs.toGo += job.data.entries.length;
  const running: QueueStatus['running'] = [];
  for await (const job of eachJob(queue, ['active'])) running.push({ job: job.id!, progress: typeof job.progress === 'number' ? job.progress : 0 });
  for await (const job of eachJob(queue, ['completed'])) {
    const r = job.returnvalue;
    const files = job.data.entries.length;
    inputs.explained += files - r.unreadable.length;
    inputs.unreadable += r.unreadable.length;
    for (const u of r.unreadable) unreadable.push({ path: u.path, reason: u.reason });
    if (job.finishedOn && job.finishedOn >= now - window * 1000) {
      recentInputs += files;
      recentStart = Math.min(recentStart, job.processedOn ?? job.finishedOn);
      lastFinished = Math.max(lastFinished, job.finishedOn);
    }
  }
  for await (const job of eachJob(queue, ['failed'])) {
    inputs.inFailedJobs += job.data.entries.length;
    failures.push({ job: job.id!, attempts: job.attemptsMade, reason: (job.failedReason ?? 'unknown').split('\n')[0]! });
  }
  inputs.total = inputs.explained + inputs.unreadable + inputs.inFailedJobs + inputs.toGo;
  // Up to now while work remains; a finished run's rate ends with its last job.
  const seconds = ((inputs.toGo > 0 ? now : lastFinished) - recentStart) / 1000;
  const workers = (await queue.getWorkers()).length;
  const status: QueueStatus = { jobs, inputs, running, failures, unreadable, workers };
  if (recentInputs > 0 && seconds > 0) {
    const inputsPerSecond = recentInputs / seconds;
    status.rate = { inputsPerSecond, window, secondsLeft: inputs.toGo / inputsPerSecond };
  }
  return status;
}
