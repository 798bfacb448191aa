/**
 * WorkspaceCore (the explorer's workspace without Node imports, run by the static site's
 * Web Worker) against the server's Workspace: with the Node platform both answer the same
 * predictions, explanation values, activations and model info for the bundled model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { WorkspaceCore } from '../src/web/workspace-core.ts';
import { nodePlatform } from '../src/web/node-platform.ts';
import { Workspace } from '../src/web/workspace.ts';
import { bundledModel } from '../src/web/serve-command.ts';
import { base64ToFloats } from '../src/web/render.ts';

test('WorkspaceCore with the Node platform answers what the server Workspace answers', async () => {
  const bundled = bundledModel();
  assert.ok(bundled, 'the bundled model is missing');
  const core = new WorkspaceCore(nodePlatform);
  const server = new Workspace();
  try {
    const [a, b] = [await core.loadModel(bundled.bytes, bundled.settings), await server.loadModel(bundled.bytes, bundled.settings)];
    assert.deepEqual(a, b);
    const sample = bundled.samples[0]!;
    const name = basename(sample, extname(sample));
    const bytes = new Uint8Array(readFileSync(sample));
    const [ia, ib] = [await core.addImage(bytes, name, true), await server.addImage(bytes, name, true)];
    assert.equal(ia.id, ib.id);
    assert.deepEqual(await core.imagePng(ia.id), await server.imagePng(ib.id));
    assert.deepEqual((await core.predict(ia.id, 3)).top, (await server.predict(ib.id, 3)).top);
    for (const method of ['grad-cam', 'guided-backprop', 'occlusion']) {
      const req = { image: ia.id, method, target: 3, colormap: 'jet' as const, alpha: 0.5 };
      const [ea, eb] = [await core.explain(req), await server.explain(req)];
      assert.deepEqual({ ...ea, ms: 0 }, { ...eb, ms: 0 }, method);
      assert.ok(base64ToFloats(ea.map).some((v) => v !== 0), `${method} is not all zeros`);
    }
    const layer = a.layers.find((l) => l.conv)!.tensor;
    const [aa, ab] = [await core.activations(ia.id, layer, 8), await server.activations(ib.id, layer, 8)];
    assert.deepEqual({ ...aa, ms: 0 }, { ...ab, ms: 0 });
    assert.equal(core.graph(), server.graph());
  } finally {
    await core.release();
    await server.release();
  }
});
