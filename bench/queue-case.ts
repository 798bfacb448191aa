/**
 * The job queue (issue 15): `convlens worker` processes on a throwaway redis-server, the
 * random-weight ResNet-50 (224x224, bench/models.ts; no pretrained ResNet-50 .onnx is
 * reachable offline, the layer shapes are torchvision's), grad-cam at batch 8 on 64 PNGs.
 *
 * - single process: the same pipeline (explainEntries) on the same 64 images in batches of 8,
 *   in this process, after a warm-up run (compiled graph ready);
 * - 1 and 2 workers: after each worker has run warm-up jobs, 8 jobs of 8 images; the span
 *   is from the first job's start to the last job's end (BullMQ's processedOn/finishedOn),
 *   so it holds everything a worker does per job (fetch and lock, open-model lookup, the
 *   pipeline, the return value, completion) but not process start-up.
 * Overhead per job = (1-worker span - the pipeline's own time inside the jobs, which the
 * worker measures around explainEntries) / 8 jobs: what the queue adds to the same work in
 * one process, measured in the same run (on a shared machine, the difference between the
 * 1-worker span and the single-process time is also reported, but it is noisier).
 *
 *   node --import tsx bench/queue-case.ts        (prints one JSON line)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import { writeModelFile } from '../src/model/file.ts';
import { Rng } from '../src/runtime/rng.ts';
import { openModelFile } from '../src/app/open-model.ts';
import { explainEntries, type ExplainRunOptions } from '../src/app/explain-run.ts';
import { discoverInputs } from '../src/input/load-input.ts';
import { openQueue } from '../src/queue/connection.ts';
import { addRun } from '../src/queue/add.ts';
import type { JobData, JobResult } from '../src/queue/jobs.ts';
import { startRedis } from '../test/redis-server.ts';
import { resnet50 } from './models.ts';
import { writeImages } from './images.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/convlens.js');
const dir = mkdtempSync(join(tmpdir(), 'convlens-bench-queue-'));
const images = 64;
const batch = 8;
const result: Record<string, number> = {};

const rng = new Rng(11);

const model = join(dir, 'resnet50.onnx');
writeModelFile(model, resnet50(1));
await writeImages(join(dir, 'warm'), 4 * batch, rng);
await writeImages(join(dir, 'images'), images, rng);
const settings = (out: string) => ({ model, out, methods: ['grad-cam'], options: { batchSize: batch }, input: {}, render: { raw: false, colormap: 'jet' as const, alpha: 0.5 } });

const redis = await startRedis(dir);
const queue = await openQueue(redis.url, 'bench');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Add a folder as jobs of `batch` and wait until they are all done; the jobs' span in seconds. */
async function runFolder(folder: string, out: string): Promise<{ span: number; pipeline: number; jobs: number; workers: number }> {
  await addRun(queue, model, [folder], settings(out), { batchSize: batch, attempts: 1 });
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    if (c['failed']) throw new Error(`bench: a job failed: ${(await queue.getFailed(0, 0))[0]?.failedReason}`);
    if (!c['waiting'] && !c['active'] && !c['delayed']) break;
    await sleep(100);
  }
  const jobs = ((await queue.getCompleted(0, -1)) as Job<JobData, JobResult>[]).filter((j) => j.data.out === out);
  const start = Math.min(...jobs.map((j) => j.processedOn!));
  const end = Math.max(...jobs.map((j) => j.finishedOn!));
  const pipeline = jobs.reduce((sum, j) => sum + j.returnvalue.pipelineMs, 0) / 1000;
  return { span: (end - start) / 1000, pipeline, jobs: jobs.length, workers: new Set(jobs.map((j) => j.returnvalue.worker)).size };
}

/** `n` worker processes, each warmed up (model opened and compiled) before `measure` runs. */
async function withWorkers(n: number, measure: () => Promise<void>): Promise<void> {
  const workers: ChildProcess[] = [];
  for (let w = 0; w < n; w++) workers.push(spawn(process.execPath, [bin, 'worker', redis.url, '--queue', 'bench'], { stdio: 'ignore' }));
  try {
    for (let i = 0; ; i++) if ((await runFolder(join(dir, 'warm'), join(dir, `warm-${n}-${i}`))).workers === n) break;
    await measure();
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(0) : w.once('exit', r)))));
  }
}

// The machine is shared: single-process and 1-worker runs alternate, and the medians count.
const rounds = 3;
const single: number[] = [];
const one: number[] = [];
/** Per 1-worker run: (span - the pipeline's own time in the jobs) / jobs, and / the mean pipeline time per job. */
const overheadMs: number[] = [];
const overheadRatio: number[] = [];
const two: number[] = [];
try {
  await using lens = await openModelFile(model);
  const run = (out: string): ExplainRunOptions => {
    mkdirSync(out, { recursive: true });
    return { ...settings(out), raw: false, colormap: 'jet', alpha: 0.5 };
  };
  const entries = await discoverInputs([join(dir, 'images')]);
  await explainEntries(lens, entries.slice(0, batch), run(join(dir, 'single-warm')));
  await withWorkers(1, async () => {
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await explainEntries(lens, entries, run(join(dir, `single-${r}`)));
      single.push((performance.now() - t0) / 1000);
      const q = await runFolder(join(dir, 'images'), join(dir, `queue-1-${r}`));
      one.push(q.span);
      overheadMs.push(((q.span - q.pipeline) * 1000) / q.jobs);
      overheadRatio.push((q.span - q.pipeline) / q.pipeline);
    }
  });
  await withWorkers(2, async () => {
    for (let r = 0; r < rounds; r++) two.push((await runFolder(join(dir, 'images'), join(dir, `queue-2-${r}`))).span);
  });
} finally {
  await queue.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
result['single process s'] = median(single);
result['1 worker s'] = median(one);
result['2 workers s'] = median(two);
result['images'] = images;
result['overhead per job ms'] = median(overheadMs);
result['overhead per job / pipeline per job'] = median(overheadRatio);
result['1 worker - single process per job ms'] = (median(one.map((t, r) => t - single[r]!)) * 1000) / (images / batch);
result['2 workers / 1 worker throughput'] = result['1 worker s']! / result['2 workers s']!;
result['rounds'] = rounds;
process.stdout.write(`${JSON.stringify({ result })}\n`);
