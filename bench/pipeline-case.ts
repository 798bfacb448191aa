/**
 * Whole-process explain (issue: one explain pipeline): `convlens explain` as a user runs
 * it, on folders of 32 and 256 PNG images for the random-weight ResNet-50 (batch 8,
 * grad-cam and guided-backprop, first run in a fresh process), against the pure batched
 * onnxruntime forward of the same images measured in this process (cold: an empty
 * compiled-graph cache; warm: the same command again). The bundled CLI (dist/bin/, `npm
 * run build`) is run when present, as an installed package runs it. Peak RSS of each command
 * comes from GNU time (2,000 inputs for the memory check); the time to the first written
 * map from watching the output folder. This machine's speed drifts between runs, so every
 * ratio is taken between runs made one right after the other (a forward just before and
 * just after each command, averaged; a cold convlens run just after each torch run), and
 * runs on 32 images are medians of 3. Where python3-torch is installed,
 * bench/torch-gradcam.py (Grad-CAM on torchvision's resnet50 with random weights, the
 * same layer shapes) runs on the same
 * images as the Python reference, both as pytorch-grad-cam computes it (a full backward)
 * and as a lean hook script (a backward through the head only). The plain forward is also
 * timed as a fresh process of its own (bench/forward-process.mjs) beside each warm run on
 * 32 images, and once more from a graph onnxruntime optimized beforehand (paired with the
 * in-process forward like the commands: the floor of the warm ratio for any fresh process).
 * Prints one JSON line.
 *
 *   node --import tsx bench/pipeline-case.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeModel } from '../src/model/model.ts';
import { Session } from '../src/runtime/session.ts';
import { Rng } from '../src/runtime/rng.ts';
import { resnet50 } from './models.ts';
import { imageName, writeImages } from './images.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/convlens.js');
const dir = mkdtempSync(join(tmpdir(), 'convlens-bench-pipeline-'));
const sizes = [32, 256];
const result: Record<string, number> = {};

const rng = new Rng(5);

const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
type Measured = { s: number; rssMb: number; firstMs: number };

/** Run a command under GNU time: wall seconds, peak RSS MB, and ms until `firstFile` (a suffix) appears in `watch`. */
function measure(cmd: string, args: string[], watch?: string, firstFile?: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstMs = NaN;
    const poll = watch
      ? setInterval(() => {
          try {
            if (Number.isNaN(firstMs) && readdirSync(watch).some((f) => f.endsWith(firstFile!))) firstMs = performance.now() - t0;
          } catch {
            // not made yet
          }
        }, 25)
      : undefined;
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CONVLENS_CACHE_DIR: join(dir, 'cache') } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (poll) clearInterval(poll);
      const m = /TIME ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.slice(-2000)}`));
      resolve({ s: Number(m[1]), rssMb: Number(m[2]) / 1024, firstMs });
    });
  });
}

const modelPath = join(dir, 'resnet50.onnx');
const model = resnet50(1);
writeFileSync(modelPath, serializeModel(model));
for (const n of sizes) await writeImages(join(dir, `images${n}`), n, rng);
// 2,000 inputs for the memory check: links to the 256 images (decoding still happens per input).
mkdirSync(join(dir, 'images2000'));
for (let i = 0; i < 2000; i++) symlinkSync(join(dir, 'images256', imageName(i % 256)), join(dir, 'images2000', imageName(i)));

// The pure forward: batches of 8 of the same images' tensors (preprocessing not counted),
// measured right before each command it is compared with (the machine's speed drifts).
const session = await Session.create(model);
// The same graph as onnxruntime optimizes it, weights in a file beside it (as convlens caches its graphs).
const optimizedPath = join(dir, 'resnet50.optimized.onnx');
await (await Session.create(model, { saveOptimized: optimizedPath, saveOptimizedWeights: 'resnet50.optimized.weights' })).release();
const batch = { data: Float32Array.from({ length: 8 * 3 * 224 * 224 }, () => rng.normal()), dims: [8, 3, 224, 224] };
await session.run({ input: batch });
async function forward(n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n / 8; i++) await session.run({ input: batch });
  return (performance.now() - t0) / 1000;
}
const forwards = new Map<number, number[]>(sizes.map((n) => [n, []]));
/**
 * A command between two forwards of the same images; its forward is their mean (the machine's
 * speed drifts within a run). What was written before (the inputs, a cold run's 100 MB cache
 * entry, a report) is flushed to disk first, so that its write-back does not land in this
 * measurement.
 */
async function around(n: number, command: () => Promise<Measured>): Promise<{ run: Measured; forward: number }> {
  spawnSync('sync');
  const before = await forward(n);
  const run = await command();
  const after = await forward(n);
  forwards.get(n)!.push(before, after);
  return { run, forward: (before + after) / 2 };
}

// The compiled CLI, as an installed package runs it (a checkout's bin runs the sources through tsx).
const cli = existsSync(join(root, 'dist/bin/main.js')) ? join(root, 'dist/bin/main.js') : bin;
const cacheDir = join(dir, 'cache');
const explain = (method: string, n: number, cold: boolean) => {
  const out = join(dir, `out-${method}-${n}`);
  rmSync(out, { recursive: true, force: true });
  if (cold) rmSync(cacheDir, { recursive: true, force: true }); // a cache folder of its own, empty
  return measure(process.execPath, [cli, 'explain', modelPath, join(dir, `images${n}`), '-m', method, '--batch-size', '8', '--preset', 'imagenet', '--resize', 'stretch', '-o', out], out, `.${method}.png`);
};
for (const [method, counts] of [['grad-cam', [32, 256, 2000]], ['guided-backprop', sizes]] as const) {
  for (const n of counts) {
    // 32 images: medians of a few rounds; each command paired with a forward measured just before it.
    const rounds = n === 32 ? ROUNDS : 1;
    const runs: { cold: Measured; coldRatio: number; warm?: Measured; warmRatio?: number; plain?: number; floorRatio?: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      if (n === 2000) {
        runs.push({ cold: await explain(method, n, true), coldRatio: NaN });
        continue;
      }
      const cold = await around(n, () => explain(method, n, true));
      if (n !== 32) {
        runs.push({ cold: cold.run, coldRatio: cold.run.s / cold.forward });
        continue;
      }
      // Warm: the same command again, its compiled graphs in the cache.
      const warm = await around(n, () => explain(method, n, false));
      // Beside it, the plain forward as a fresh process (start-up, session, decoding: what any script pays).
      const forwardProcess = (...args: string[]) => measure(process.execPath, [join(root, 'bench/forward-process.mjs'), ...args]);
      const plain = method === 'grad-cam' ? (await forwardProcess(modelPath, join(dir, `images${n}`))).s : NaN;
      const floor = method === 'grad-cam' ? await around(n, () => forwardProcess(optimizedPath, join(dir, `images${n}`), '--optimized')) : undefined;
      runs.push({ cold: cold.run, coldRatio: cold.run.s / cold.forward, warm: warm.run, warmRatio: warm.run.s / warm.forward, plain, ...(floor ? { floorRatio: floor.run.s / floor.forward } : {}) });
    }
    result[`${method} ${n} s`] = median(runs.map((r) => r.cold.s));
    if (n !== 2000) result[`${method} ${n} / forward`] = median(runs.map((r) => r.coldRatio));
    result[`${method} ${n} peak RSS MB`] = Math.max(...runs.map((r) => r.cold.rssMb));
    result[`${method} ${n} first map ms`] = median(runs.map((r) => r.cold.firstMs));
    if (n === 32) {
      result[`${method} ${n} warm s`] = median(runs.map((r) => r.warm!.s));
      result[`${method} ${n} warm / forward`] = median(runs.map((r) => r.warmRatio!));
      result[`${method} ${n} warm first map ms`] = median(runs.map((r) => r.warm!.firstMs));
      if (method === 'grad-cam') {
        result[`plain forward process ${n} s`] = median(runs.map((r) => r.plain!));
        result[`${method} ${n} warm / plain forward process`] = median(runs.map((r) => r.warm!.s / r.plain!));
        result[`plain forward process, optimized beforehand, ${n} / forward`] = median(runs.map((r) => r.floorRatio!));
      }
    }
  }
}
await session.release();
for (const n of sizes) result[`forward ${n} s`] = median(forwards.get(n)!);

// Debian's python3-torch lives in the system Python (a pyenv python3 on PATH does not see it).
// Each torch run is paired with a cold convlens grad-cam run just after it.
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const torch = spawnSync(python, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' }).status === 0;
if (torch) {
  for (const variant of ['pytorch-grad-cam', 'hook']) {
    for (const n of sizes) {
      const runs: { torch: Measured; ratio: number }[] = [];
      for (let round = 0; round < (n === 32 ? ROUNDS : 1); round++) {
        const t = await measure(python, [join(root, 'bench/torch-gradcam.py'), join(dir, `images${n}`), join(dir, `torch-out-${n}`), variant]);
        const ours = await explain('grad-cam', n, true);
        runs.push({ torch: t, ratio: t.s / ours.s });
      }
      result[`torch ${variant} ${n} s`] = median(runs.map((r) => r.torch.s));
      result[`torch ${variant} ${n} / convlens`] = median(runs.map((r) => r.ratio));
      result[`torch ${variant} ${n} peak RSS MB`] = Math.max(...runs.map((r) => r.torch.rssMb));
    }
  }
} else {
  process.stderr.write('bench: python3-torch/torchvision not installed: the torch Grad-CAM reference is skipped\n');
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ result })}\n`);
