/**
 * The job queue end to end (issue 15), as a user runs it: a Redis server of the test's own on
 * a free loopback port, `convlens queue add` of 50 images (and one broken file) x 2 methods on
 * the bundled Fashion-MNIST model, three `convlens worker` processes, one of them killed with
 * SIGKILL in the middle of a job. Then: every output exists once and equals (values of the
 * --raw .npy files) a single-process `convlens explain` of the same inputs, no temporary file
 * is left, the status counts add up, the broken input failed alone, re-adding adds nothing,
 * and the report lists what the workers wrote.
 *
 * Needs Debian's redis-server: skipped with a message when it is missing outside CI (CI
 * installs it, see .ci/run, and there a missing server fails the test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readNpy } from './helpers.ts';
import { freePort, redisServerPath, startRedis } from './redis-server.ts';
import type { Queue } from 'bullmq';
import { openQueue } from '../src/queue/connection.ts';
import { queueStatus, type QueueStatus } from '../src/queue/status.ts';

const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
const model = fileURLToPath(new URL('../models/fashion-mnist/model.onnx', import.meta.url));
const samples = fileURLToPath(new URL('../models/fashion-mnist/samples/', import.meta.url));
const missing = redisServerPath === undefined && !process.env['CI'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function convlens(args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CONVLENS_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Every file under `dir`, relative, sorted. */
function walk(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), root) : [relative(root, join(dir, e.name))]))
    .sort();
}

/** 50 distinct 28x28 images from the bundled samples (rotated and mirrored), and one broken file. */
async function makeImages(dir: string): Promise<void> {
  const files = readdirSync(samples).filter((f) => f.endsWith('.png')).sort();
  for (let i = 0; i < 50; i++) {
    let image = sharp(join(samples, files[i % files.length]!)).rotate(90 * (Math.floor(i / files.length) % 4));
    if (i >= 32) image = image.flop();
    await image.png().toFile(join(dir, `img-${String(i).padStart(2, '0')}.png`));
  }
  writeFileSync(join(dir, 'zz-broken.png'), 'not a png');
}

test('queue: 3 workers, one killed mid-job, equal the single-process run; nothing lost, nothing twice', { skip: missing && 'redis-server is not installed (apt-get install redis-server; CI installs it)', timeout: 180_000 }, async () => {
  assert.ok(redisServerPath, 'redis-server is missing in CI: .ci/run must install it');
  const dir = mkdtempSync(join(tmpdir(), 'convlens-queue-'));
  const redis = await startRedis(dir);
  const url = redis.url;
  const workers: ChildProcess[] = [];
  let queue: Queue | undefined;
  try {
    const images = join(dir, 'images');
    mkdirSync(images);
    await makeImages(images);
    // Occlusion at stride 2 makes a job last long enough to be killed inside it.
    const work = ['-m', 'saliency,occlusion', '--window', '4', '--stride', '2', '--batch-size', '4', '--raw'];

    // Unreachable Redis (a port nobody listens on): one line, exit 1.
    const closed = await freePort();
    const down = await convlens(['queue', 'status', `redis://127.0.0.1:${closed}`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^convlens: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it .*\n$/);

    const reference = convlens(['explain', model, images, ...work, '--out', join(dir, 'reference')]);
    const out = join(dir, 'out');
    const add = JSON.parse((await convlens(['--json', 'queue', 'add', url, model, images, ...work, '--out', out])).stdout) as Record<string, number>;
    assert.deepEqual(add, { jobs: 13, inputs: 51, added: 13, existing: 0, retried: 0 });

    // Three workers. The first starts alone and is killed as soon as it starts its first job
    // (so it surely holds one); then two more run the rest, the killed job once its lock expires.
    const logs: string[] = ['', '', ''];
    let killedJob: string | undefined;
    let killed!: () => void;
    let died!: (e: Error) => void;
    const firstKilled = new Promise<void>((resolve, reject) => ((killed = resolve), (died = reject)));
    for (let w = 0; w < 3; w++) {
      const child = spawn(process.execPath, [bin, 'worker', url, '--lock-duration', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d: Buffer) => {
        logs[w] = logs[w]! + d.toString();
        const running = /running (explain-\w+)/.exec(logs[w]!);
        if (w === 0 && running && !killedJob) {
          killedJob = running[1];
          child.kill('SIGKILL');
          killed();
        }
      });
      workers.push(child);
      if (w === 0) {
        child.on('exit', () => killedJob || died(new Error(`worker 0 exited before taking a job:\n${logs[0]}`)));
        await firstKilled;
      }
    }
    // Polled in this process (a CLI process per poll would compete with the workers); the CLI's status once at the end.
    queue = await openQueue(url);
    for (let i = 0; ; i++) {
      const c = await queue.getJobCounts('completed', 'failed');
      if (c['completed']! + c['failed']! >= 13) break;
      assert.ok(i < 480, `the run did not finish: ${JSON.stringify(c)}\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const s = JSON.parse((await convlens(['--json', 'queue', 'status', url])).stdout) as QueueStatus;
    assert.ok(killedJob, 'worker 0 never started a job');
    assert.ok(!logs[0]!.includes(`done ${killedJob}`), 'the killed worker finished its job before the kill');
    // The killed worker's job was picked up again (stalled) and finished by another worker.
    assert.ok(logs[1]!.includes(`done ${killedJob}`) || logs[2]!.includes(`done ${killedJob}`), `nobody finished ${killedJob}:\n${logs.join('\n')}`);

    // Status counts add up; the broken input failed alone.
    assert.deepEqual(s.jobs, { waiting: 0, active: 0, delayed: 0, completed: 13, failed: 0, total: 13 });
    assert.deepEqual(s.inputs, { total: 51, explained: 50, unreadable: 1, inFailedJobs: 0, toGo: 0 });
    assert.deepEqual(s.unreadable.map((u) => u.path), [join(images, 'zz-broken.png')]);

    // Re-adding the same work adds nothing.
    const again = JSON.parse((await convlens(['--json', 'queue', 'add', url, model, images, ...work, '--out', out])).stdout) as Record<string, number>;
    assert.deepEqual(again, { jobs: 13, inputs: 51, added: 0, existing: 13, retried: 0 });

    // Graceful stop: SIGTERM, and the workers exit 0.
    const exits = workers.slice(1).map((w) => new Promise<number | null>((r) => w.on('exit', (code) => r(code))));
    for (const w of workers.slice(1)) w.kill('SIGTERM');
    assert.deepEqual(await Promise.all(exits), [0, 0]);

    const ref = await reference;
    assert.equal(ref.code, 0, ref.stderr);
    const report = await convlens(['queue', 'report', url, '--out', out]);
    assert.equal(report.code, 0, report.stderr);

    // Every output once, the same files as the single-process run, no temporary files.
    const outputs = walk(out);
    const expected = walk(join(dir, 'reference'));
    assert.equal(expected.filter((f) => f.endsWith('.npy')).length, 100);
    assert.deepEqual(outputs, expected);
    assert.ok(!existsSync(join(out, '.convlens', 'tmp')), 'a temporary folder is left');
    // Values: every raw map equals the single-process run's.
    for (const f of expected.filter((f) => f.endsWith('.npy'))) {
      const a = readNpy(join(out, f));
      const b = readNpy(join(dir, 'reference', f));
      assert.deepEqual(a.dims, b.dims, f);
      let worst = 0;
      for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!) / (Math.abs(b.data[i]!) + 1e-6));
      assert.ok(worst < 1e-4, `${f}: relative difference ${worst}`);
    }
    // The report lists the same inputs with the same top classes.
    for (const f of expected.filter((f) => f.startsWith('.convlens/inputs/'))) {
      const a = JSON.parse(readFileSync(join(out, f), 'utf8')) as { predictions: { class: number }[] };
      const b = JSON.parse(readFileSync(join(dir, 'reference', f), 'utf8')) as { predictions: { class: number }[] };
      assert.deepEqual(a.predictions.map((p) => p.class), b.predictions.map((p) => p.class), f);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.ok(html.includes('img-49') && html.includes('zz-broken'), 'the report lists the inputs and the unreadable one');
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    await queue?.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('queue: a job that keeps failing lands in the failed set with its one-line reason; adding it again retries it; inputs by URL', { skip: missing && 'redis-server is not installed (apt-get install redis-server; CI installs it)', timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-queue-fail-'));
  const redis = await startRedis(dir);
  let worker: ChildProcess | undefined;
  let queue: Queue | undefined;
  let server: Server | undefined;
  try {
    const copy = join(dir, 'model.onnx');
    const bytes = readFileSync(model);
    writeFileSync(copy, bytes);
    const images = join(dir, 'images');
    mkdirSync(images);
    for (const f of readdirSync(samples).filter((f) => f.endsWith('.png')).slice(0, 3)) writeFileSync(join(images, f), readFileSync(join(samples, f)));
    // Two inputs by URL: one served, one missing (it fails alone).
    server = createServer((req, res) => {
      if (req.url === '/shop/bag.png') res.end(readFileSync(join(samples, '08-bag.png')));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const args = ['queue', 'add', redis.url, copy, images, `${base}/shop/bag.png`, `${base}/shop/gone.png`, '-m', 'grad-cam', '--attempts', '2', '--out', join(dir, 'out')];
    assert.equal(JSON.parse((await convlens(['--json', ...args])).stdout).added, 1);
    // The model file changes after the run was queued: every attempt refuses it.
    writeFileSync(copy, Buffer.concat([bytes, Buffer.from([0])]));
    const down = await convlens(['worker', `redis://127.0.0.1:${await freePort()}`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^convlens: cannot reach Redis at .*\n$/);
    worker = spawn(process.execPath, [bin, 'worker', redis.url, '--lock-duration', '2'], { stdio: 'ignore' });
    queue = await openQueue(redis.url);
    const until = async (done: (s: QueueStatus) => boolean) => {
      for (let i = 0; ; i++) {
        const s = await queueStatus(queue!);
        if (done(s)) return s;
        assert.ok(i < 240, `the queue did not get there: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const failed = await until((s) => s.jobs['failed'] === 1);
    assert.equal(failed.failures.length, 1);
    assert.equal(failed.failures[0]!.attempts, 2);
    assert.match(failed.failures[0]!.reason, /^model '.*model\.onnx' changed since the run was queued: queue the run again \(convlens queue add\)$/);
    const text = await convlens(['queue', 'status', redis.url]);
    assert.match(text.stdout, /\nfailed explain-\w+ after 2 attempt\(s\): model '.*' changed since the run was queued/);
    // Fixed, and added again: the failed job is retried and completes.
    writeFileSync(copy, bytes);
    assert.deepEqual(JSON.parse((await convlens(['--json', ...args])).stdout), { jobs: 1, inputs: 5, added: 0, existing: 0, retried: 1 });
    const done = await until((s) => s.jobs['completed'] === 1);
    assert.equal(done.jobs['failed'], 0);
    assert.deepEqual(done.inputs, { total: 5, explained: 4, unreadable: 1, inFailedJobs: 0, toGo: 0 });
    assert.deepEqual(done.unreadable, [{ path: `${base}/shop/gone.png`, reason: `${base}/shop/gone.png answered HTTP 404: check the URL` }]);
    for (const stem of ['01-trouser', 'bag']) assert.ok(existsSync(join(dir, 'out', `${stem}.grad-cam.png`)), stem);
    // The URL input's map equals the same image's from a file (same model, same pixels).
    const local = await convlens(['explain', copy, join(samples, '08-bag.png'), '-m', 'grad-cam', '--raw', '--out', join(dir, 'local')]);
    assert.equal(local.code, 0, local.stderr);
    const queued = await convlens(['queue', 'add', redis.url, copy, `${base}/shop/bag.png`, '-m', 'grad-cam', '--raw', '--out', join(dir, 'by-url')]);
    assert.equal(queued.code, 0, queued.stderr);
    await until((s) => s.jobs['completed'] === 2);
    assert.deepEqual(readNpy(join(dir, 'by-url', 'bag.grad-cam.npy')), readNpy(join(dir, 'local', '08-bag.grad-cam.npy')));
  } finally {
    worker?.kill('SIGKILL');
    server?.close();
    await queue?.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
