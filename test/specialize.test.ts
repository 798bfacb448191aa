/**
 * Specialization's probe run (src/runtime/specialize.ts): large weights that decide no
 * shape are zeros made at run time in the probe, so the probe carries no weights; values
 * folded from a weight are still the weight's own, and the specialized model computes
 * with the real weights. onnxruntime's shape inference gives the same specialization as
 * running the network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { serializeModel } from '../src/model/model.ts';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { declaredDims, placeholderWeights, specialize, staticTensors } from '../src/runtime/specialize.ts';
import { readModelFile } from '../src/model/file.ts';
import { zoo } from './zoo/models.ts';
import { GraphView } from '../src/model/graph-view.ts';
import { readTensorProto } from '../src/model/tensor-data.ts';
import { Rng } from '../src/runtime/rng.ts';
import { fixture, floatInitializer, relativeL2, valueInfo } from './helpers.ts';

const rng = new Rng(11);
// 16 x 3 x 5 x 5 = 1,200 values: large enough to be made of zeros in the probe.
const weights = Float32Array.from({ length: 16 * 3 * 5 * 5 }, () => rng.normal());
const total = weights.reduce((s, v) => s + v, 0);

/** y = Conv(x, W) + ReduceSum(W): the sum reads the weight on a path that holds no image. */
function model(): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'probe',
      node: [
        { name: 'conv', opType: 'Conv', input: ['x', 'w'], output: ['c'], attribute: [] },
        { name: 'sum', opType: 'ReduceSum', input: ['w'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { name: 'add', opType: 'Add', input: ['c', 's'], output: ['y'] },
      ],
      initializer: [floatInitializer('w', [16, 3, 5, 5], weights)],
      input: [valueInfo('x', [2, 3, 8, 8])],
      output: [valueInfo('y', [2, 16, 4, 4])],
    },
  };
}

test('the probe folds a weight-derived value from the real weight, and the specialized model computes with the real weights', async () => {
  const s = await specialize(model(), { x: [2, 3, 8, 8] });
  assert.deepEqual(s.shapes.get('c'), [2, 16, 4, 4]);
  // The weight read by a shape-free path stays whole, so its sum is folded from real values.
  const folded = s.model.graph!.initializer!.find((t) => t.name === 's');
  assert.ok(folded, 'the sum is folded into an initializer');
  assert.ok(Math.abs((readTensorProto(folded).data as Float32Array)[0]! - total) < 1e-3 * Math.max(1, Math.abs(total)));
  const x = Float32Array.from({ length: 2 * 3 * 8 * 8 }, () => rng.normal());
  const run = async (m: ModelProto) => {
    const session = await ort.InferenceSession.create(serializeModel(m));
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 3, 8, 8]) });
    await session.release();
    return out['y']!.data as Float32Array;
  };
  const expected = await run(model());
  assert.ok(relativeL2(await run(s.model), expected) < 1e-6);
  assert.ok(Math.max(...expected.map(Math.abs)) > 1, 'the output is not the zeros of a placeholder');
});

test('in the probe, a weight that feeds only a Conv is zeros made at run time; one read by a shape-free path stays', async () => {
  const placeholders = (m: ModelProto) => {
    const graph = structuredClone(m.graph!);
    const view = new GraphView(m.graph!);
    const nodes = placeholderWeights(graph, view, staticTensors(view));
    return { made: nodes.map((n) => `${n.opType} ${n.output[0]}`), kept: (graph.initializer ?? []).map((t) => t.name) };
  };
  assert.deepEqual(placeholders(model()), { made: [], kept: ['w'] });
  const convOnly = model();
  convOnly.graph!.node = [{ name: 'conv', opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'strides', type: 7, ints: [2, 2] }] }];
  convOnly.graph!.input = [valueInfo('x', [2, 3, 9, 9])];
  assert.deepEqual(placeholders(convOnly), { made: ['ConstantOfShape w'], kept: ['w::probe_dims'] });
  // The shapes are the real model's, and the specialized model keeps the real weight object.
  const s = await specialize(convOnly, { x: [2, 3, 9, 9] });
  assert.deepEqual(s.shapes.get('y'), [2, 16, 3, 3]);
  assert.equal(s.model.graph!.initializer!.find((t) => t.name === 'w'), convOnly.graph!.initializer![0]);
});

test("onnxruntime's shape inference answers the probe as running the network does, on every zoo and reference model", async () => {
  const models: [string, ModelProto][] = [
    ...Object.entries(zoo).map(([name, z]): [string, ModelProto] => [name, z.build(1)]),
    ...['tiny-vgg', 'dense-se', 'alexnetish'].map((name): [string, ModelProto] => [name, readModelFile(fixture(`reference/${name}/model.onnx`))]),
  ];
  for (const [name, m] of models) {
    const input = new GraphView(m.graph!).inputs[0]!;
    // alexnetish was exported for one image at a time.
    const dims = declaredDims(input)!.map((d, i) => (i === 0 ? (name === 'alexnetish' ? 1 : 2) : (d ?? 32)));
    const inferred = await specialize(m, { [input.name]: dims }).catch((e: Error) => e.message);
    const ran = await specialize(m, { [input.name]: dims }, { run: true }).catch((e: Error) => e.message);
    const summary = (s: Awaited<ReturnType<typeof specialize>> | string) =>
      typeof s === 'string' ? s : { shapes: [...s.shapes].sort(), nodes: s.model.graph!.node.map((n) => n.output.join()), folded: s.model.graph!.initializer!.filter((t) => !(m.graph!.initializer ?? []).includes(t)).map((t) => [t.name, [...readTensorProto(t).data]]) };
    assert.deepEqual(summary(inferred), summary(ran), name);
  }
});
