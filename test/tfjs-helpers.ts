/**
 * TF.js models for the import tests (a helper module, not a test file): saving generated
 * LayersModels as model.json + shard, hand-written GraphModel JSON, the bundled real
 * models, and running the @tensorflow/tfjs reference (cpu backend) on them.
 */
import * as tf from '@tensorflow/tfjs';
import vm from 'node:vm';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Rng } from '../src/runtime/rng.ts';

export { tf };
await tf.setBackend('cpu');

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `convlens-${prefix}-`));

interface ModelJson {
  format?: string;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  signature?: unknown;
  userDefinedMetadata?: unknown;
}

/** Write model.json + one shard into `dir`; returns the model.json path. */
export function writeModel(dir: string, json: Omit<ModelJson, 'weightsManifest'>, weights: tf.io.WeightsManifestEntry[], data: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), data);
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ paths: ['weights.bin'], weights }] }));
  return join(dir, 'model.json');
}

/** Give every weight seeded random values (variances positive) so no layer is trivial. */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  model.setWeights(model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const values = /variance/.test(w.name)
      ? Float32Array.from({ length: n }, () => 0.5 + rng.uniform())
      : Float32Array.from({ length: n }, () => 0.4 * rng.normal());
    return tf.tensor(values, shape);
  }));
}

/** Save a LayersModel to `dir` as TF.js writes it (custom IO handler: no file:// in Node). */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  let path = '';
  await model.save({
    save: async (a: tf.io.ModelArtifacts) => {
      const data = new Uint8Array(a.weightData as ArrayBuffer);
      path = writeModel(dir, { format: 'layers-model', modelTopology: a.modelTopology }, a.weightSpecs ?? [], data);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  return path;
}

/** model.json + shards of `path` as in-memory artifacts for tf.loadLayersModel/loadGraphModel. */
export function artifacts(path: string): tf.io.IOHandler {
  const json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dirname(path), p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const extra = { ...(json.signature ? { signature: json.signature } : {}), ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}) };
  return tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, format: json.format, ...extra } as tf.io.ModelArtifacts);
}

/** nsfwjs' MobileNetV2 (shipped as UMD bundles) written out as model.json + shard. */
export function nsfwMobileNetV2(): string {
  const load = (p: string): unknown => {
    const module = { exports: {} as unknown };
    vm.runInNewContext(readFileSync(p, 'utf8'), { module, exports: module.exports });
    return module.exports;
  };
  const base = 'node_modules/nsfwjs/dist/models/mobilenet_v2';
  const json = JSON.parse(JSON.stringify(load(`${base}/model.min.js`))) as ModelJson;
  const dir = tempDir('nsfw');
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, json.weightsManifest[0]!.paths[0]!), Buffer.from(load(`${base}/group1-shard1of1.min.js`) as string, 'base64'));
  return join(dir, 'model.json');
}

export const HUMAN_MODELS = 'node_modules/@vladmandic/human/models';

/** A smooth deterministic test image in [lo, hi). */
export function testInput(dims: number[], lo = 0, hi = 1, seed = 3): Float32Array {
  const rng = new Rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * (0.5 + 0.35 * Math.sin(i * 0.37) + 0.15 * (rng.uniform() - 0.5)));
}

/** Max |a - b| over max(1, max |b|): absolute for outputs in [0, 1], relative for large ones. */
export function scaledMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(Number(a[i]) - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

// ---------------------------------------------------------------------------------------
// Hand-written GraphModel JSON
// ---------------------------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s).toString('base64');
export const attr = {
  s: (v: string) => ({ s: b64(v) }),
  ss: (v: string[]) => ({ list: { s: v.map(b64) } }),
  i: (v: number) => ({ i: String(v) }),
  is: (v: number[]) => ({ list: { i: v.map(String) } }),
  f: (v: number) => ({ f: v }),
  b: (v: boolean) => ({ b: v }),
  type: (v: string) => ({ type: v }),
  shape: (v: number[]) => ({ shape: { dim: v.map((d) => ({ size: String(d) })) } }),
};

/** Builds a GraphModel: nodes in TF's JSON form, constants in the weights manifest. */
export class GraphJson {
  readonly nodes: { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }[] = [];
  readonly weights: tf.io.WeightsManifestEntry[] = [];
  private readonly chunks: Uint8Array[] = [];
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  node(name: string, op: string, input: string[], attrs: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: attr.type('DT_FLOAT'), ...attrs } });
    return name;
  }
  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.type('DT_FLOAT'), shape: attr.shape(shape) } });
    return name;
  }
  /** A float constant (random normal * scale unless values are given). */
  float(name: string, shape: number[], scale = 0.5, values?: number[]): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from(values ?? Array.from({ length: n }, () => scale * this.rng.normal()));
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type('DT_FLOAT') } });
    this.weights.push({ name, shape, dtype: 'float32' });
    this.chunks.push(new Uint8Array(data.buffer));
    return name;
  }
  int(name: string, shape: number[], values: number[]): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type('DT_INT32') } });
    this.weights.push({ name, shape, dtype: 'int32' });
    this.chunks.push(new Uint8Array(Int32Array.from(values).buffer));
    return name;
  }
  write(dir: string, outputs: string[]): string {
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const data = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) {
      data.set(c, at);
      at += c.length;
    }
    const signature = { outputs: Object.fromEntries(outputs.map((o) => [`${o}:0`, { name: `${o}:0` }])) };
    return writeModel(dir, { format: 'graph-model', modelTopology: { node: this.nodes, versions: { producer: 1 } }, signature }, this.weights, data);
  }
}
