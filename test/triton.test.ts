/** `convlens compile --triton DIR`: a Triton / KServe v2 model repository for the compiled explainer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModelFile } from '../src/model/file.ts';
import { serializeModel } from '../src/model/model.ts';
import { exportExplainer } from '../src/export/explainer-graph.ts';
import { writeTritonRepository } from '../src/export/triton.ts';

const model = fileURLToPath(new URL('../models/fashion-mnist/model.onnx', import.meta.url));

test('the repository holds config.pbtxt with the graph\'s names, types and run dims, and the explainer as 1/model.onnx', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-triton-'));
  try {
    const graph = await exportExplainer(readModelFile(model), { method: 'grad-cam', inputShape: [2, 1, 28, 28] });
    const files = await writeTritonRepository(dir, 'grad-cam', graph);
    assert.deepEqual(files, [join(dir, 'grad-cam', 'config.pbtxt'), join(dir, 'grad-cam', '1', 'model.onnx')]);
    // The bundled model: input 'input' [N, 1, 28, 28] -> logits [N, 10]; Grad-CAM maps are [N, 28, 28].
    assert.equal(readFileSync(files[0]!, 'utf8'), [
      'name: "grad-cam"',
      'platform: "onnxruntime_onnx"',
      'max_batch_size: 0',
      'input [',
      '  {\n    name: "input"\n    data_type: TYPE_FP32\n    dims: [ 2, 1, 28, 28 ]\n  },',
      '  {\n    name: "target_class"\n    data_type: TYPE_INT64\n    dims: [ 2 ]\n  }',
      ']',
      'output [',
      '  {\n    name: "explanation"\n    data_type: TYPE_FP32\n    dims: [ 2, 28, 28 ]\n  },',
      '  {\n    name: "logits"\n    data_type: TYPE_FP32\n    dims: [ 2, 10 ]\n  }',
      ']',
      '',
    ].join('\n'));
    assert.ok(Buffer.from(readFileSync(files[1]!)).equals(Buffer.from(serializeModel(graph))), '1/model.onnx is the explainer');
    await assert.rejects(writeTritonRepository(dir, 'a/b', graph), /'a\/b' cannot name a Triton model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
