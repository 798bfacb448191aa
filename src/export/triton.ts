/**
 * A model repository for an ONNX serving engine: Triton Inference Server's layout
 * (`<name>/config.pbtxt` and `<name>/1/model.onnx`), which KServe's v2 protocol servers
 * with Triton or ONNX Runtime back ends also read. The config lists the graph's inputs and
 * outputs with their types and static dims (`max_batch_size: 0`: the batch is part of the
 * dims, as `convlens compile --batch` fixed it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConvlensError } from '../errors.ts';
import { int64ToNumber, type ModelProto, type ValueInfoProto } from '../model/onnx-proto.ts';
import { serializeModel } from '../model/model.ts';
import { DataType } from '../model/tensor-data.ts';
import { Session } from '../runtime/session.ts';

const tritonTypes: Record<number, string> = {
  [DataType.FLOAT]: 'TYPE_FP32',
  [DataType.FLOAT16]: 'TYPE_FP16',
  [DataType.DOUBLE]: 'TYPE_FP64',
  [DataType.INT64]: 'TYPE_INT64',
  [DataType.INT32]: 'TYPE_INT32',
  [DataType.UINT8]: 'TYPE_UINT8',
  [DataType.BOOL]: 'TYPE_BOOL',
};

function tensorEntry(v: ValueInfoProto, dims: readonly number[]): string {
  const t = v.type?.tensorType;
  const type = tritonTypes[t?.elemType ?? 0];
  if (!type) throw new ConvlensError(`tensor '${v.name}' has element type ${t?.elemType ?? 'unknown'}, which this Triton config writer does not map`);
  return `  {\n    name: "${v.name}"\n    data_type: ${type}\n    dims: [ ${dims.join(', ')} ]\n  }`;
}

const declaredDims = (v: ValueInfoProto) => (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue === undefined ? -1 : int64ToNumber(d.dimValue)));

/**
 * The config.pbtxt text of a model served by Triton's ONNX Runtime back end. Output dims
 * come from one run on zeros (a compiled graph does not declare all its output shapes).
 */
export async function tritonConfig(model: ModelProto, name: string): Promise<string> {
  const graph = model.graph!;
  const inputs = (graph.input ?? []).filter((i) => !(graph.initializer ?? []).some((t) => t.name === i.name));
  const feeds = Object.fromEntries(
    inputs.map((i) => {
      const dims = declaredDims(i);
      if (dims.some((d) => d < 0)) throw new ConvlensError(`input '${i.name}' has a symbolic dim: compile with a fixed --batch and --size`);
      const size = dims.reduce((a, b) => a * b, 1);
      const int64 = i.type?.tensorType?.elemType === DataType.INT64;
      return [i.name, { type: int64 ? 'int64' : 'float32', data: int64 ? new BigInt64Array(size) : new Float32Array(size), dims }];
    }),
  );
  const session = await Session.create(model);
  let outputs: Record<string, { dims: number[] }>;
  try {
    outputs = await session.run(feeds);
  } finally {
    await session.release();
  }
  return [
    `name: "${name}"`,
    'platform: "onnxruntime_onnx"',
    'max_batch_size: 0',
    `input [\n${inputs.map((i) => tensorEntry(i, declaredDims(i))).join(',\n')}\n]`,
    `output [\n${(graph.output ?? []).map((o) => tensorEntry(o, outputs[o.name]!.dims)).join(',\n')}\n]`,
    '',
  ].join('\n');
}

/** Write `<dir>/<name>/config.pbtxt` and `<dir>/<name>/1/model.onnx`; returns the files. */
export async function writeTritonRepository(dir: string, name: string, model: ModelProto): Promise<string[]> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ConvlensError(`'${name}' cannot name a Triton model: use letters, digits, '-', '_' or '.'`);
  const version = join(dir, name, '1');
  mkdirSync(version, { recursive: true });
  const config = join(dir, name, 'config.pbtxt');
  const onnx = join(version, 'model.onnx');
  writeFileSync(config, await tritonConfig(model, name));
  writeFileSync(onnx, serializeModel(model));
  return [config, onnx];
}
