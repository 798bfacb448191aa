/**
 * Small models, tensors and images that are wrong in one way each, for the bad-input and
 * fuzz tests: a Loop that runs for ever, NaN weights, missing outputs, negative dims,
 * external data pointing elsewhere, .npy headers that lie.
 */
import type { GraphProto, ModelProto, NodeProto, TensorProto } from '../src/model/onnx-proto.ts';
import { DataType, floatTensor, int64Tensor, makeTensorProto } from '../src/model/tensor-data.ts';
import { makeAttribute } from '../src/model/attributes.ts';
import { parseModel, serializeModel } from '../src/model/model.ts';
import { Net } from './zoo/net.ts';

/** A tiny gray-image classifier: input [N, 1, 8, 8], conv 4, relu, gemm 3. */
export function tinyNet(seed = 1): ModelProto {
  const net = new Net('tiny', seed, ['N', 1, 8, 8]);
  const x = net.relu(net.conv(net.input, 4), 'features');
  return net.finish([net.gemm(net.flatten(x), 3, { name: 'logits' })]);
}

const scalarInfo = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });

/**
 * tinyNet whose logits also add 0 * (a counter run `trips` times by a Loop, seeded with
 * the sum of the input): every forward run executes the Loop.
 */
export function loopNet(trips: number): ModelProto {
  const model = tinyNet();
  const g = model.graph!;
  const body: GraphProto = {
    name: 'count',
    node: [
      { name: 'body_one', opType: 'Constant', input: [], output: ['one'], attribute: [makeAttribute('value', floatTensor([], [1]))] },
      { name: 'body_add', opType: 'Add', input: ['s_in', 'one'], output: ['s_out'] },
      { name: 'body_cond', opType: 'Identity', input: ['cond_in'], output: ['cond_out'] },
    ],
    input: [scalarInfo('iter', DataType.INT64), scalarInfo('cond_in', DataType.BOOL), scalarInfo('s_in', DataType.FLOAT)],
    output: [scalarInfo('cond_out', DataType.BOOL), scalarInfo('s_out', DataType.FLOAT)],
  };
  g.initializer!.push(
    makeTensorProto('loop_trips', int64Tensor([], [trips])),
    makeTensorProto('loop_cond', { dataType: DataType.BOOL, dims: [], data: Uint8Array.of(1) }),
    makeTensorProto('loop_zero', floatTensor([], [0])),
  );
  const logits = g.output![0]!.name;
  const nodes: NodeProto[] = [
    // Seeded from the input so that the Loop is computed at run time, not folded as a constant.
    { name: 'loop_s0', opType: 'ReduceSum', input: [g.input![0]!.name], output: ['loop_s0'], attribute: [makeAttribute('keepdims', 0)] },
    { name: 'counter', opType: 'Loop', input: ['loop_trips', 'loop_cond', 'loop_s0'], output: ['count'], attribute: [{ name: 'body', type: 5, g: body }] },
    { name: 'count_zero', opType: 'Mul', input: ['count', 'loop_zero'], output: ['count_zero'] },
    { name: 'logits_plus', opType: 'Add', input: [logits, 'count_zero'], output: ['scores'] },
  ];
  g.node.push(...nodes);
  g.output![0] = { ...g.output![0]!, name: 'scores' };
  return model;
}

/** A copy of `model` with `edit` applied to its graph. */
export function edited(model: ModelProto, edit: (g: GraphProto) => void): ModelProto {
  // A deep copy: the edits change tensors in place (cloneModel shares the weights).
  const copy = parseModel(serializeModel(model));
  edit(copy.graph!);
  return copy;
}

export const initializer = (g: GraphProto, name: string): TensorProto => {
  const t = g.initializer!.find((i) => i.name === name);
  if (!t) throw new Error(`no initializer '${name}'`);
  return t;
};

/** A .npy file with a hand-written header (shape text as given) and `dataBytes` zero bytes of data. */
export function npyWithHeader(shape: string, descr = '<f4', dataBytes = 0): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  return out;
}
