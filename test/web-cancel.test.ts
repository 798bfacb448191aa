/**
 * The explorer cancels: when the page aborts a running explain (the user picked another
 * method or image), the model worker stops it between onnxruntime runs instead of
 * finishing it, and the next request runs at once; while it runs, /api/status tells how far
 * it is. Also: the explorer reads the model's
 * own metadata (preprocessing, labels) like the CLI, and gives the deletion/insertion
 * curves of a displayed map equal to the library's metrics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeModel } from '../src/model/model.ts';
import { writeMetadataDefaults } from '../src/app/model-defaults.ts';
import { startServer, type ExplorerServer } from '../src/web/server.ts';
import type { CurvesResponse, ExplainResponse, ModelInfo, StatusResponse } from '../src/web/api-types.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { deletion, insertion } from '../src/metrics/causal.ts';
import { loadImageForModel } from '../src/input/image-file.ts';
import { detectLayout } from '../src/input/layout.ts';
import { imageToTensor } from '../src/input/preprocess.ts';
import { base64ToFloats } from '../src/web/render.ts';
import { zoo } from './zoo/models.ts';
import { fixture } from './helpers.ts';

let served: ExplorerServer;
const model = zoo['tiny-vgg']!.build();
const labels = Array.from({ length: 10 }, (_, i) => `label ${i}`);

before(async () => {
  writeMetadataDefaults(model, { preset: 'unit', resize: 'stretch', labels, name: 'Annotated VGG' });
  served = await startServer({ model: { bytes: serializeModel(model), settings: { name: 'tiny-vgg.onnx' } }, samples: [fixture('images/coffee.jpg')], port: 0 });
});
after(async () => served.close());

const api = (path: string, body?: unknown, signal?: AbortSignal) =>
  fetch(new URL(path, served.url), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

test('the explorer uses the model metadata: name, preset, resize and labels', async () => {
  const info = (await (await api('/api/model')).json()) as ModelInfo;
  assert.deepEqual([info.name, info.preset, info.resize, info.labels], ['Annotated VGG', 'unit', 'stretch', labels]);
});

test('an aborted explain stops in the worker (it is not finished and cached), and the next request is served', async () => {
  const slow = { image: 'sample-coffee', method: 'occlusion', options: { window: 2, stride: 1 } };
  const abort = new AbortController();
  const pending = api('/api/explain', slow, abort.signal).catch((e: Error) => e);
  // Wait until the occlusion runs, then abort it as the page does.
  for (;;) {
    const status = (await (await api('/api/status')).json()) as StatusResponse;
    if (status.queue.running) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  abort.abort();
  assert.equal(((await pending) as Error).name, 'AbortError');
  const quick = (await (await api('/api/explain', { image: 'sample-coffee', method: 'saliency' })).json()) as ExplainResponse;
  assert.equal(quick.method, 'saliency');
  assert.equal(quick.label, `label ${quick.class}`);
  // Had the occlusion run to its end, asking again would be answered from the cache.
  const again = (await (await api('/api/explain', slow)).json()) as ExplainResponse;
  assert.equal(again.cached, false);
  const cachedNow = (await (await api('/api/explain', slow)).json()) as ExplainResponse;
  assert.equal(cachedNow.cached, true);
});

test('GET /api/status reports the running explain\'s progress, rising from 0 to 1, and nothing once it is done', async () => {
  const slow = { image: 'sample-coffee', method: 'rise', options: { masks: 12000 } };
  let done = false;
  const pending = api('/api/explain', slow).then(async (r) => {
    done = true;
    return (await r.json()) as ExplainResponse;
  });
  const seen: number[] = [];
  while (!done) {
    const { progress } = (await (await api('/api/status')).json()) as StatusResponse;
    if (progress) {
      assert.equal(progress.method, 'rise');
      seen.push(progress.fraction);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal((await pending).method, 'rise');
  const moving = seen.filter((f) => f > 0);
  assert.ok(moving.length >= 2 && new Set(moving).size >= 2, `progress seen while running: ${seen.join(', ')}`);
  seen.forEach((f, i) => assert.ok(f >= 0 && f <= 1 && (i === 0 || f >= seen[i - 1]!), `fractions rise within [0, 1]: ${seen.join(', ')}`));
  assert.equal(((await (await api('/api/status')).json()) as StatusResponse).progress, null);
});

test('POST /api/curves: the deletion and insertion curves of the shown map, equal to the library metrics', async () => {
  const request = { image: 'sample-coffee', method: 'grad-cam', target: 4 };
  const shown = (await (await api('/api/explain', request)).json()) as ExplainResponse;
  const r = (await (await api('/api/curves', request)).json()) as CurvesResponse;
  const { image } = await loadImageForModel(fixture('images/coffee.jpg'), { height: 32, width: 32, resize: 'stretch' });
  await using explainer = await Explainer.create(model);
  const input = { explainer, images: imageToTensor([image], detectLayout([1, 3, 32, 32]), 'unit'), maps: [base64ToFloats(shown.map)], classes: [4] };
  const [del, ins] = [await deletion(input, { steps: 32 }), await insertion(input, { steps: 32 })];
  assert.equal(r.class, 4);
  assert.deepEqual(r.fractions, del.fractions);
  for (const [got, want] of [[r.deletion, del.curves[0]!], [r.insertion, ins.curves[0]!]] as const) {
    assert.equal(got.length, 33);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `point ${i}: ${v} vs ${want[i]}`));
  }
  assert.ok(Math.abs(r.deletionAuc - del.values[0]!) < 1e-6 && Math.abs(r.insertionAuc - ins.values[0]!) < 1e-6);
  const bad = await api('/api/curves', { image: 'sample-coffee', method: 'grad-cam-9000' });
  assert.equal(bad.status, 400);
});
