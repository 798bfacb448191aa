import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModel, serializeModel } from '../src/model/model.ts';
import { int64ToNumber, type ModelProto } from '../src/model/onnx-proto.ts';
import { Session } from '../src/runtime/session.ts';
import { zoo } from './zoo/models.ts';
import { Rng } from '../src/runtime/rng.ts';

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

async function run(session: Session, output: string, data: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: number[] }> {
  const y = (await session.run({ input: { data, dims } }, [output]))[output];
  assert.ok(y && y.data instanceof Float32Array, `no float output '${output}'`);
  return { data: y.data, dims: y.dims };
}

for (const [name, entry] of Object.entries(zoo)) {
  test(`zoo ${name}: round-trips, runs, and a batch of 3 equals 3 single runs`, async () => {
    const model = parseModel(serializeModel(entry.build()), { source: name });
    const graph = model.graph!;
    const output = graph.output![0]!.name;
    assert.deepEqual(graph.output![0]!.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || int64ToNumber(d.dimValue)), ['N', 10]);
    assert.ok(graph.node.some((n) => n.output.includes(entry.spatialLayer)), `spatial layer '${entry.spatialLayer}' is no node's output`);

    const session = await Session.create(model);
    try {
      const one = entry.inputShape(1), three = entry.inputShape(3);
      const images = new Rng(42).normals(size(three));
      const batch = await run(session, output, images, three);
      assert.deepEqual(batch.dims, [3, 10]);
      assert.ok(batch.data.every(Number.isFinite), 'non-finite output');
      for (let i = 0; i < 3; i++) {
        const single = await run(session, output, images.subarray(i * size(one), (i + 1) * size(one)), one);
        assert.deepEqual(single.dims, [1, 10]);
        assert.ok(single.data.every(Number.isFinite), 'non-finite output');
        const diff = Math.max(...single.data.map((v, j) => Math.abs(v - batch.data[i * 10 + j]!)));
        assert.ok(diff < 1e-5, `image ${i}: batch and single runs differ by ${diff}`);
      }
    } finally {
      await session.release();
    }
  });
}

test('zoo weights are determined by the seed', () => {
  const weights = (m: ModelProto): Map<string, Uint8Array> =>
    new Map(m.graph!.initializer!.filter((t) => t.name!.endsWith('.weight')).map((t) => [t.name!, t.rawData!]));
  for (const [name, entry] of Object.entries(zoo)) {
    assert.deepEqual(serializeModel(entry.build(7)), serializeModel(entry.build(7)), `${name}: same seed, different model`);
    const a = weights(entry.build(7)), b = weights(entry.build(8));
    assert.ok(a.size > 0);
    for (const [w, bytes] of a) assert.notDeepEqual(bytes, b.get(w), `${name}: ${w} does not depend on the seed`);
  }
});
