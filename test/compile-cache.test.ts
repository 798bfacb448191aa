/**
 * The disk cache of compiled graphs (src/runtime/disk-cache.ts): a second open of the same
 * model compiles nothing and gives the same values; a changed model is a miss; the folder
 * stays within its bound; the CLI writes there unless --no-cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeModel } from '../src/model/model.ts';
import { contentHash, DiskCache } from '../src/runtime/disk-cache.ts';
import { openModelFile } from '../src/app/open-model.ts';
import { Rng } from '../src/runtime/rng.ts';
import { zoo } from './zoo/models.ts';
import { fixture } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'convlens-cache-'));
const modelPath = join(dir, 'model.onnx');
const rng = new Rng(4);
const images = { data: Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.normal()), dims: [2, 3, 32, 32] };

async function explainWith(cache: DiskCache) {
  await using lens = await openModelFile(modelPath, { cache, preset: 'unit' });
  const results = await lens.explainBatch(images, ['grad-cam', 'guided-backprop', 'lrp'], { batchSize: 2 });
  const { compilations, specializations } = lens.explainer.engine.counts;
  return { values: results.methods.map((m) => m.results.map((r) => [...r.raw])), compilations, specializations };
}

test('hit, miss and invalidation: the same model compiles once across opens; a changed model compiles again', async () => {
  writeFileSync(modelPath, serializeModel(zoo['tiny-resnet']!.build(1)));
  const cache = new DiskCache(join(dir, 'cache'));
  const first = await explainWith(cache);
  assert.ok(first.compilations >= 2);
  assert.equal(first.specializations, 2, 'batch 1 (layers) and batch 2');
  // grad-cam and guided-backprop graphs are stored (as onnxruntime optimized them), lrp's
  // rule table is not (no stable name); each specialization is stored.
  assert.equal(cache.counts.writes, first.compilations - 1 + first.specializations);
  // The optimized graphs keep their weights in a file of their own, which their description names.
  const files = readdirSync(cache.dir);
  const weights = files.filter((f) => f.endsWith('.weights'));
  assert.equal(weights.length, 2, 'grad-cam and guided-backprop graphs');
  const named = files.filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(join(cache.dir, f), 'utf8')) as { weights?: string }).weights);
  assert.deepEqual(weights.sort(), named.filter((w) => w !== undefined).sort());
  const second = await explainWith(cache);
  assert.equal(second.compilations, 1, 'only the rule-table graph (lrp) compiles again');
  assert.equal(second.specializations, 0, 'specializations come from the cache');
  assert.equal(cache.counts.hits, first.compilations - 1 + first.specializations);
  assert.deepEqual(second.values, first.values);
  // Another model at the same path: a different content hash, so nothing is reused.
  writeFileSync(modelPath, serializeModel(zoo['tiny-resnet']!.build(2)));
  const misses = cache.counts.misses;
  const changed = await explainWith(cache);
  assert.equal(changed.compilations, first.compilations);
  assert.equal(changed.specializations, first.specializations);
  assert.equal(cache.counts.misses - misses, first.compilations - 1 + first.specializations);
  assert.notDeepEqual(changed.values, first.values);
});

test('weights in an external data file are part of the key: new weights there compile again', async () => {
  const model = zoo['tiny-vgg']!.build(5);
  const w = model.graph!.initializer!.find((t) => (t.dims ?? []).length === 4)!;
  const count = w.rawData!.length / 4;
  const weights = (seed: number) => new Uint8Array(Float32Array.from({ length: count }, (_, i) => Math.sin(seed + i)).buffer);
  Object.assign(w, { rawData: new Uint8Array(0), dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }] });
  writeFileSync(modelPath, serializeModel(model));
  writeFileSync(join(dir, 'weights.bin'), weights(1));
  const cache = new DiskCache(join(dir, 'external-cache'));
  const first = await explainWith(cache);
  const again = await explainWith(cache);
  assert.equal(again.compilations, 1, 'only the rule-table graph (lrp) compiles again');
  assert.deepEqual(again.values, first.values);
  writeFileSync(join(dir, 'weights.bin'), weights(2));
  const changed = await explainWith(cache);
  assert.equal(changed.compilations, first.compilations);
  assert.notDeepEqual(changed.values, first.values);
});

test("a file's hash is remembered by its identity and taken again when the file changes", () => {
  const cache = new DiskCache(join(dir, 'hash-cache'));
  const file = join(dir, 'hashed.bin');
  writeFileSync(file, 'one');
  assert.equal(cache.fileHash(file), contentHash(new TextEncoder().encode('one')));
  assert.equal(cache.fileHash(file), contentHash(new TextEncoder().encode('one')));
  writeFileSync(file, 'two, longer');
  assert.equal(cache.fileHash(file), contentHash(new TextEncoder().encode('two, longer')));
  // Larger than the buffer it is read through (4 MB), not a multiple of it.
  const large = Uint8Array.from({ length: 9 * 1024 ** 2 + 17 }, (_, i) => (i * 2654435761) >>> 24);
  writeFileSync(file, large);
  assert.equal(cache.fileHash(file), contentHash(large));
});

test('the cache folder stays within its bound; damaged entries are misses', async () => {
  writeFileSync(modelPath, serializeModel(zoo['tiny-vgg']!.build(1)));
  const folder = join(dir, 'small');
  const cache = new DiskCache(folder, 1);
  await explainWith(cache);
  assert.ok(cache.counts.writes >= 2);
  assert.equal(cache.counts.evictions, cache.counts.writes, 'each entry is over the 1-byte bound');
  assert.deepEqual(readdirSync(join(folder, 'compiled')), []);
  // Truncated files are a miss, never an error.
  const roomy = new DiskCache(join(dir, 'roomy'));
  await explainWith(roomy);
  for (const f of readdirSync(join(dir, 'roomy', 'compiled'))) if (f.endsWith('.json')) writeFileSync(join(dir, 'roomy', 'compiled', f), '{');
  const again = await explainWith(roomy);
  assert.equal(roomy.counts.hits, 0);
  assert.ok(again.compilations >= 2);
  // Damaged graphs under whole descriptions: onnxruntime refuses them, they are compiled again.
  const damaged = new DiskCache(join(dir, 'damaged'));
  const clean = await explainWith(damaged);
  for (const f of readdirSync(join(dir, 'damaged', 'compiled'))) if (f.endsWith('.onnx')) writeFileSync(join(dir, 'damaged', 'compiled', f), 'not a graph');
  const rebuilt = await explainWith(damaged);
  assert.equal(rebuilt.compilations, clean.compilations);
  assert.equal(rebuilt.specializations, clean.specializations);
  assert.deepEqual(rebuilt.values, clean.values);
  // A truncated weights file beside a whole graph: refused by onnxruntime, compiled again.
  const cut = new DiskCache(join(dir, 'cut'));
  await explainWith(cut);
  for (const f of readdirSync(cut.dir)) if (f.endsWith('.weights')) writeFileSync(join(cut.dir, f), readFileSync(join(cut.dir, f)).subarray(0, 100));
  const recompiled = await explainWith(cut);
  assert.equal(recompiled.compilations, clean.compilations);
  assert.deepEqual(recompiled.values, clean.values);
});

test('the CLI writes compiled graphs to CONVLENS_CACHE_DIR, and nothing with --no-cache', () => {
  writeFileSync(modelPath, serializeModel(zoo['tiny-vgg']!.build(3)));
  const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
  const run = (cacheDir: string, ...extra: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...extra, 'explain', modelPath, fixture('images/coffee.jpg'), '-m', 'grad-cam', '--preset', 'unit', '-o', join(dir, 'out')], { encoding: 'utf8', env: { ...process.env, CONVLENS_CACHE_DIR: cacheDir } });
    assert.equal(r.status, 0, r.stderr);
  };
  run(join(dir, 'cli-cache'));
  assert.ok(readdirSync(join(dir, 'cli-cache', 'compiled')).some((f) => f.endsWith('.onnx')));
  run(join(dir, 'cli-nocache'), '--no-cache');
  assert.throws(() => readdirSync(join(dir, 'cli-nocache')), /ENOENT/);
});
