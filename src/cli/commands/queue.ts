/**
 * `convlens queue add|status|report REDIS_URL ...`: a dataset explained by any number of
 * workers (`convlens worker`) through a BullMQ queue on Redis (src/queue/).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { prepareOutDir } from '../../report/out-dir.ts';
import { defaultQueueName, openQueue } from '../../queue/connection.ts';
import { addRun } from '../../queue/add.ts';
import { queueStatus, type QueueStatus } from '../../queue/status.ts';
import { writeQueueReport } from '../../queue/report.ts';
import { parseInteger, UsageError } from '../args.ts';
import { print, printJson, wantsJson } from '../output.ts';
import { methodOptions, withExplainOptions, type ExplainFlags } from './explain.ts';

const queueOption = () => new Option('--queue <name>', 'queue name (several runs can share one Redis)').default(defaultQueueName);

interface AddFlags extends ExplainFlags {
  queue: string;
  attempts: number;
  title?: string;
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('explain datasets on a job queue (BullMQ on Redis) with any number of `convlens worker`s');

  withExplainOptions(queue
    .command('add')
    .description('add a run: one job per batch of inputs (ids from the model, input contents, methods and options: adding the same work again adds nothing)')
    .argument('<redis-url>', 'redis://HOST:PORT')
    .argument('<model>', 'ONNX model file, on storage every worker reads at the same path')
    .argument('<inputs...>', 'image files, folders or .npy tensors on storage every worker reads at the same path, or http(s) URLs (fetched once here for their content hash, then by the workers)'))
    .addOption(queueOption())
    .addOption(new Option('--attempts <n>', 'runs of a job (a crashed worker counts) before it lands in the failed set').default(3).argParser(parseInteger('--attempts', 1)))
    .option('--title <text>', "report title (default: 'convlens: ' and the model's name)")
    .action(async (url: string, model: string, inputs: string[], flags: AddFlags, command: Command) => {
      if (!existsSync(model)) throw new UsageError(`model file '${model}' does not exist: give the path of an .onnx file`);
      if (flags.labels && !existsSync(flags.labels)) throw new UsageError(`labels file '${flags.labels}' does not exist`);
      const out = prepareOutDir(flags.out);
      const q = await openQueue(url, flags.queue);
      try {
        const summary = await addRun(q, model, inputs, {
          model: resolve(model),
          out,
          methods: flags.method,
          options: methodOptions(flags),
          input: {
            ...(flags.preset ? { preset: flags.preset } : {}),
            ...(flags.resize ? { resize: flags.resize } : {}),
            ...(flags.size ? { size: flags.size } : {}),
            ...(flags.labels ? { labels: resolve(flags.labels) } : {}),
          },
          render: { raw: flags.raw === true, colormap: flags.colormap, alpha: flags.alpha },
          ...(flags.title ? { title: flags.title } : {}),
        }, { batchSize: flags.batchSize, attempts: flags.attempts });
        if (wantsJson(command)) printJson(summary);
        else {
          const parts = [`${summary.added} added`, `${summary.existing} already queued or done`, ...(summary.retried ? [`${summary.retried} failed before, retried`] : [])];
          print(`${summary.inputs} input(s) in ${summary.jobs} job(s): ${parts.join(', ')}`);
        }
      } finally {
        await q.close();
      }
    });

  queue
    .command('status')
    .description('job counts, inputs done and to go, rate, time left, and failures with their reasons')
    .argument('<redis-url>', 'redis://HOST:PORT')
    .addOption(queueOption())
    .action(async (url: string, flags: { queue: string }, command: Command) => {
      const q = await openQueue(url, flags.queue);
      try {
        const status = await queueStatus(q);
        if (wantsJson(command)) printJson(status);
        else print(formatStatus(status));
      } finally {
        await q.close();
      }
    });

  queue
    .command('report')
    .description("the HTML report of a run from its finished jobs' results (nothing is recomputed)")
    .argument('<redis-url>', 'redis://HOST:PORT')
    .addOption(queueOption())
    .requiredOption('-o, --out <dir>', 'the output folder the run was added with (required)')
    .action(async (url: string, flags: { queue: string; out: string }, command: Command) => {
      const q = await openQueue(url, flags.queue);
      try {
        const r = await writeQueueReport(q, flags.out);
        if (wantsJson(command)) printJson(r);
        else print(`${r.inputs} input(s)${r.unreadable ? `, ${r.unreadable} unreadable` : ''}${r.unfinished ? `; ${r.unfinished} job(s) not finished yet (run report again later)` : ''}\nreport: ${r.report}`);
      } finally {
        await q.close();
      }
    });
}

function duration(s: number): string {
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function formatStatus(s: QueueStatus): string {
  const j = s.jobs;
  const i = s.inputs;
  const lines = [
    `jobs: ${j.waiting} waiting, ${j.active} active, ${j.delayed} delayed (retry), ${j.completed} completed, ${j.failed} failed (${j.total} total); ${s.workers} worker connection(s)`,
    `inputs: ${i.explained} explained, ${i.unreadable} unreadable, ${i.inFailedJobs} in failed jobs, ${i.toGo} to go (${i.total} total)`,
    s.rate ? `rate: ${s.rate.inputsPerSecond.toFixed(2)} inputs/s over the last ${s.rate.window / 60} min; ${i.toGo ? `about ${duration(s.rate.secondsLeft)} left` : 'done'}` : `rate: no job finished in the last 5 min`,
  ];
  for (const r of s.running) lines.push(`running ${r.job}: ${r.progress}%`);
  for (const f of s.failures) lines.push(`failed ${f.job} after ${f.attempts} attempt(s): ${f.reason}`);
  for (const u of s.unreadable) lines.push(`unreadable ${u.path}: ${u.reason}`);
  return lines.join('\n');
}
