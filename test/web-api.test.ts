/** The explorer's HTTP API (src/web/server.ts), with a zoo model and no browser. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { zoo } from './zoo/models.ts';
import { fixture } from './helpers.ts';
import { serializeModel } from '../src/model/model.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { loadImageForModel } from '../src/input/image-file.ts';
import { detectLayout } from '../src/input/layout.ts';
import { imageToTensor } from '../src/input/preprocess.ts';
import { decodeImage } from '../src/viz/png.ts';
import { startServer, type ExplorerServer } from '../src/web/server.ts';
import { base64ToFloats } from '../src/web/render.ts';
import type { ActivationsResponse, ExplainResponse, ImageEntry, MethodEntry, ModelInfo, PredictResponse, SampleEntry, StatusResponse } from '../src/web/api-types.ts';

const model = zoo['tiny-resnet']!.build();
const modelBytes = serializeModel(model);
const samples = [fixture('images/chelsea.jpg'), fixture('images/coffee.jpg')];

let served: ExplorerServer;
const url = (path: string) => new URL(path, served.url).toString();

async function get(path: string): Promise<Response> {
  return fetch(url(path));
}
async function post(path: string, body: unknown, raw = false): Promise<Response> {
  return fetch(url(path), { method: 'POST', ...(raw ? {} : { headers: { 'content-type': 'application/json' } }), body: raw ? (body as Uint8Array<ArrayBuffer>) : typeof body === 'string' ? body : JSON.stringify(body) });
}
async function ok<T>(res: Promise<Response>): Promise<T> {
  const r = await res;
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text) as T;
}
/** A 4xx with a JSON {error} naming the problem. */
async function bad(res: Promise<Response>, status: number, pattern: RegExp): Promise<void> {
  const r = await res;
  const body = (await r.json()) as { error: string };
  assert.equal(r.status, status, body.error);
  assert.match(body.error, pattern);
}

before(async () => {
  served = await startServer({ model: { bytes: modelBytes, settings: { name: 'tiny-resnet.onnx' } }, samples, port: 0, limits: { image: 64 * 1024, model: 4 * 1024 * 1024 } });
});
after(async () => served.close());

describe('explorer API', () => {
  test('binds to 127.0.0.1 by default and reports its URL', () => {
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('GET /api/methods lists the registry', async () => {
    const methods = await ok<MethodEntry[]>(get('/api/methods'));
    const gradCam = methods.find((m) => m.id === 'grad-cam');
    assert.ok(gradCam);
    assert.equal(gradCam.family, 'cam');
    assert.equal(gradCam.usesLayers, true);
    assert.ok(methods.some((m) => m.id === 'integrated-gradients' && m.output === 'image'));
  });

  test('GET /api/model describes the model', async () => {
    const info = await ok<ModelInfo>(get('/api/model'));
    assert.equal(info.name, 'tiny-resnet.onnx');
    assert.deepEqual(info.inputShape, [1, 3, 32, 32]);
    assert.equal(info.classes, 10);
    assert.equal(info.labels, null);
    assert.ok(info.layers.length > 3);
    assert.equal(info.defaultLayer, info.layers.at(-1)!.tensor);
    assert.ok(info.layers.some((l) => l.conv));
    assert.ok(info.summary.parameters > 0);
    assert.ok(info.filterLayers.length > 0);
  });

  test('samples are listed by name and served as the model sees them', async () => {
    const list = await ok<SampleEntry[]>(get('/api/samples'));
    assert.deepEqual(list.map((s) => s.name), ['chelsea', 'coffee']);
    const res = await get('/api/samples/chelsea');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const png = await decodeImage(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual([png.width, png.height], [32, 32]);
    await bad(get('/api/samples/..%2F..%2Fpackage.json'), 404, /unknown sample/);
    await bad(get('/api/samples/nope'), 404, /unknown sample 'nope'/);
  });

  test('predict returns the top classes with probabilities', async () => {
    const res = await ok<PredictResponse>(post('/api/predict', { image: 'sample-chelsea', k: 3 }));
    assert.equal(res.top.length, 3);
    const p = res.top.map((t) => t.probability);
    assert.ok(p[0]! >= p[1]! && p[1]! >= p[2]!);
    assert.equal(res.top[0]!.label, `class ${res.top[0]!.class}`);
  });

  test('grad-cam over the API equals Explainer.explain', async () => {
    const layer = (await ok<ModelInfo>(get('/api/model'))).layers.find((l) => l.conv)!.tensor;
    const res = await ok<ExplainResponse>(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', layer, target: 3, colormap: 'viridis', alpha: 0.3 }));
    assert.equal(res.kind, 'map');
    assert.deepEqual(res.dims, [32, 32]);
    assert.equal(res.class, 3);
    assert.equal(res.layer, layer);
    const { image } = await loadImageForModel(samples[0]!, { height: 32, width: 32 });
    const tensor = imageToTensor([image], detectLayout([1, 3, 32, 32]), 'imagenet');
    await using explainer = await Explainer.create(model);
    const [expected] = await explainer.explain(tensor, 'grad-cam', { target: [3], targetLayers: [layer] });
    assert.deepEqual(base64ToFloats(res.map), expected!.values);
    const png = await decodeImage(Buffer.from(res.png, 'base64'));
    assert.deepEqual([png.width, png.height], [32, 32]);
    // Asked again: served from the cache, same values.
    const again = await ok<ExplainResponse>(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', layer, target: 3 }));
    assert.equal(again.cached, true);
    assert.equal(again.map, res.map);
  });

  test('explain with an image method returns a [C, H, W] image', async () => {
    const res = await ok<ExplainResponse>(post('/api/explain', { image: 'sample-coffee', method: 'gradient' }));
    assert.equal(res.kind, 'image');
    assert.deepEqual(res.dims, [3, 32, 32]);
    assert.equal(base64ToFloats(res.map).length, 3 * 32 * 32);
  });

  test('uploaded images get an id usable in every request', async () => {
    const entry = await ok<ImageEntry>(post('/api/images?name=cat', new Uint8Array(readFileSync(samples[0]!)), true));
    assert.match(entry.id, /^[0-9a-f]{16}$/);
    const res = await get(`/api/images/${entry.id}`);
    assert.equal(res.status, 200);
    const fromUpload = await ok<ExplainResponse>(post('/api/explain', { image: entry.id, method: 'grad-cam' }));
    const fromSample = await ok<ExplainResponse>(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam' }));
    assert.equal(fromUpload.map, fromSample.map);
  });

  test('activations: a grid and one thumbnail per channel', async () => {
    const info = await ok<ModelInfo>(get('/api/model'));
    const layer = info.layers.find((l) => l.conv)!;
    const res = await ok<ActivationsResponse>(post('/api/activations', { image: 'sample-chelsea', layer: layer.tensor, limit: 4 }));
    assert.equal(res.layer, layer.tensor);
    assert.equal(res.total, layer.shape[1]);
    assert.equal(res.channels.length, Math.min(4, layer.shape[1]!));
    const channels = res.channels.map((c) => c.channel);
    assert.deepEqual(channels, [...channels].sort((a, b) => a - b));
    const thumb = await decodeImage(Buffer.from(res.channels[0]!.png, 'base64'));
    assert.deepEqual([thumb.width, thumb.height], layer.shape.slice(2));
    const grid = await decodeImage(Buffer.from(res.grid, 'base64'));
    assert.ok(grid.width > thumb.width);
  });

  test('graph SVG and filter images', async () => {
    const svg = await get('/api/graph');
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    const text = await svg.text();
    assert.match(text, /^<svg /);
    assert.match(text, /data-nodes=/);
    const info = await ok<ModelInfo>(get('/api/model'));
    const png = await get(`/api/filters?layer=${encodeURIComponent(info.filterLayers[0]!)}`);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    await bad(get('/api/filters'), 400, /'layer' is missing/);
    await bad(get('/api/filters?layer=nope'), 400, /no 2-D conv kernels/);
  });

  test('bad requests get a 4xx with a message and the server keeps serving', async () => {
    const good = async () => ok<PredictResponse>(post('/api/predict', { image: 'sample-chelsea' }));
    await bad(post('/api/explain', '{"image": '), 400, /not valid JSON/);
    await good();
    await bad(post('/api/explain', '[1, 2]'), 400, /JSON object/);
    await bad(post('/api/explain', { image: 7, method: 'grad-cam' }), 400, /'image' must be a non-empty string/);
    await bad(post('/api/explain', { image: 'sample-chelsea' }), 400, /'method'.*missing/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'nope' }), 400, /unknown method 'nope'/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', layer: 'nope' }), 400, /unknown layer "nope"/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', layer: 999 }), 400, /unknown layer 999/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', alpha: 2 }), 400, /'alpha' must be in \[0, 1\]/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', alpha: 'x' }), 400, /'alpha' must be a number/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', target: 10 }), 400, /target 10 is out of range/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', target: -1 }), 400, /'target' must be/);
    await bad(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam', colormap: 'rainbow' }), 400, /'colormap' must be one of/);
    await bad(post('/api/explain', { image: 'deadbeef', method: 'grad-cam' }), 404, /unknown image id 'deadbeef'/);
    await bad(post('/api/predict', { image: 'sample-chelsea', k: 0 }), 400, /'k' must be in/);
    await bad(post('/api/activations', { image: 'sample-chelsea' }), 400, /'layer' is missing/);
    await bad(get('/api/images/deadbeef'), 404, /unknown image id/);
    await bad(post('/api/images', new Uint8Array([1, 2, 3, 4]), true), 400, /./);
    await bad(post('/api/images', new Uint8Array(65 * 1024), true), 413, /larger than the limit of 64 KB/);
    await good();
    await bad(get('/api/nope'), 404, /no API endpoint/);
    await bad(fetch(url('/api/explain')), 405, /GET is not supported/);
    await good();
  });

  test('a corrupt or oversized model upload is refused and the old model stays', async () => {
    await bad(post('/api/model?name=broken.onnx', modelBytes.slice(0, 200), true), 400, /'broken.onnx' is not a readable ONNX file/);
    await bad(post('/api/model', new Uint8Array(5 * 1024 * 1024), true), 413, /model is larger than the limit of 4 MB/);
    await bad(post('/api/model?preset=nope', modelBytes, true), 400, /unknown preset/);
    assert.equal((await ok<ModelInfo>(get('/api/model'))).name, 'tiny-resnet.onnx');
    await ok<PredictResponse>(post('/api/predict', { image: 'sample-chelsea' }));
  });

  test('a model upload replaces the model; images are refitted to it', async () => {
    const vgg = serializeModel(zoo['tiny-vgg']!.build());
    const info = await ok<ModelInfo>(post('/api/model?name=vgg.onnx', vgg, true));
    assert.equal(info.name, 'vgg.onnx');
    assert.equal((await ok<ModelInfo>(get('/api/model'))).name, 'vgg.onnx');
    const res = await ok<ExplainResponse>(post('/api/explain', { image: 'sample-chelsea', method: 'grad-cam' }));
    assert.deepEqual(res.dims, info.inputShape.slice(2));
    assert.equal(res.cached, false);
    await ok<ModelInfo>(post('/api/model?name=tiny-resnet.onnx', modelBytes, true));
  });

  test('one computation at a time; a request whose client left is dropped from the queue', async () => {
    const before = (await ok<StatusResponse>(get('/api/status'))).queue;
    // Hold the queue with a slow job, then queue a request and disconnect it.
    let release!: () => void;
    const held = served.queue.run(() => new Promise<void>((r) => (release = r)));
    const aborted = new Promise<void>((resolve) => {
      const req = request(url('/api/predict'), { method: 'POST', headers: { 'content-type': 'application/json' } }, () => assert.fail('the dropped request got a response'));
      req.on('error', () => resolve());
      req.end(JSON.stringify({ image: 'sample-chelsea' }));
      setTimeout(() => req.destroy(), 200);
    });
    const waiting = post('/api/predict', { image: 'sample-coffee' });
    await aborted;
    await new Promise((r) => setTimeout(r, 50));
    const mid = (await ok<StatusResponse>(get('/api/status'))).queue;
    assert.equal(mid.running, true);
    assert.equal(mid.waiting, 1);
    assert.equal(mid.dropped, before.dropped + 1);
    release();
    await held;
    const res = await ok<PredictResponse>(waiting);
    assert.equal(res.image, 'sample-coffee');
  });

  test('static files: the app, content types, no directory traversal', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/assets/../../../package.json']) {
      const res = await fetch(url('/') + path.slice(1));
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /"name": "convlens"/);
    }
    const page = await get('/');
    if (page.status === 503) return; // web/dist not built: the browser test covers the page
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await page.text();
    const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const js = await get(`/${script}`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await get('/missing.js')).status, 404);
  });
});
