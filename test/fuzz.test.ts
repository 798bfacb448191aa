/**
 * Seeded, bounded fuzzing of everything a user hands convlens: ONNX bytes and fields,
 * images and .npy tensors. Every outcome must be a result or a ConvlensError (a one-line
 * message for the user): never another exception, a crash or a hang. Counts are fixed
 * (20,000 ONNX mutations parsed, 600 full explains), seeds are fixed, so a failure
 * reproduces; the whole file runs in about a minute on two cores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ConvlensError } from '../src/errors.ts';
import { parseModel, serializeModel } from '../src/model/model.ts';
import { decodeModelProto, type ModelProto, type TensorProto, type TypeProto } from '../src/model/onnx-proto.ts';
import { GraphView } from '../src/model/graph-view.ts';
import { normalizeOpset } from '../src/model/opset.ts';
import { encodeNpy, parseNpy } from '../src/runtime/npy.ts';
import { Rng } from '../src/runtime/rng.ts';
import { loadImageForModel } from '../src/input/image-file.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { methods } from '../src/methods/registry.ts';
import { tinyNet } from './bad-input-models.ts';
import { zoo } from './zoo/models.ts';

const base = serializeModel(tinyNet());
/** Models for the explain fuzz: the tiny gray net and zoo CNNs with more op kinds (BN, residuals, SE, hardswish, softmax). */
const explainBases = [
  { bytes: base, dims: [1, 1, 8, 8] },
  ...['tiny-resnet', 'se-hardswish', 'softmax-head', 'mobilenet-v2'].map((id) => ({ bytes: serializeModel(zoo[id]!.build()), dims: zoo[id]!.inputShape(1) })),
];
const int = (rng: Rng, n: number) => Math.floor(rng.uniform() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!;

/** Failures that are not ConvlensErrors, by message, with one example case each. */
class Outcomes {
  ok = 0;
  userErrors = 0;
  readonly bugs = new Map<string, string>();
  async run(label: string, f: () => unknown): Promise<void> {
    try {
      await f();
      this.ok++;
    } catch (e) {
      if (e instanceof ConvlensError && !e.message.includes('\n')) {
        this.userErrors++;
        if (process.env['FUZZ_VERBOSE']) console.log(label, e.message.slice(0, 150));
      }
      else {
        const key = `${(e as Error)?.name}: ${String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 160)}`;
        if (!this.bugs.has(key)) this.bugs.set(key, `${label}\n${(e as Error)?.stack?.split('\n').slice(1, 4).join('\n')}`);
      }
    }
  }
  assertClean(): void {
    assert.deepEqual([...this.bugs].map(([k, v]) => `${k} (${v})`), [], 'non-ConvlensError outcomes');
  }
}

/** Byte-level mutations: flips, overwrites, truncation, insertion, duplication. */
function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const kind = int(rng, 5);
  if (kind === 0) {
    for (let k = 1 + int(rng, 4); k > 0; k--) {
      const at = int(rng, out.length);
      out[at] = out[at]! ^ (1 << int(rng, 8));
    }
    return out;
  }
  if (kind === 1) {
    for (let k = 1 + int(rng, 8); k > 0; k--) out[int(rng, out.length)] = pick(rng, [0, 0xff, 0x7f, 0x80, int(rng, 256)]);
    return out;
  }
  if (kind === 2) return out.subarray(0, int(rng, out.length));
  const at = int(rng, out.length);
  const insert = kind === 3 ? Uint8Array.from({ length: 1 + int(rng, 16) }, () => int(rng, 256)) : out.subarray(int(rng, out.length), int(rng, out.length));
  const joined = new Uint8Array(out.length + insert.length);
  joined.set(out.subarray(0, at));
  joined.set(insert, at);
  joined.set(out.subarray(at), at + insert.length);
  return joined;
}

const weird = [-1, 0, 1, 2, 3, 7, 1e9, -1e9, 2 ** 31, 2 ** 53, Number.NaN] as const;

/** Field-level mutations of the decoded model: dims, types, names, attributes, opset, wiring. */
function mutateFields(rng: Rng, model: ModelProto): void {
  const g = model.graph!;
  const inits = g.initializer ?? [];
  const node = g.node.length > 0 ? pick(rng, g.node) : undefined;
  const tensor: TensorProto | undefined = inits.length > 0 ? pick(rng, inits) : undefined;
  switch (int(rng, 16)) {
    case 0: if (tensor) tensor.dims = (tensor.dims ?? []).map((d, i) => (i === 0 ? pick(rng, weird) : d)); break;
    case 1: if (tensor) tensor.dataType = pick(rng, [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 16, 99]); break;
    case 2: if (tensor) { tensor.dataLocation = 1; tensor.externalData = [{ key: 'location', value: pick(rng, ['w.bin', '../w.bin', '/etc/passwd', '']) }, { key: 'offset', value: String(pick(rng, weird)) }]; } break;
    case 3: if (tensor?.rawData) tensor.rawData = tensor.rawData.subarray(0, int(rng, tensor.rawData.length)); break;
    case 4: g.output = int(rng, 2) === 0 ? [] : [{ name: pick(rng, ['nope', '', g.input?.[0]?.name ?? 'x']) }]; break;
    case 5: if (g.input?.[0]) g.input[0].type = pick<TypeProto>(rng, [{}, { tensorType: { elemType: 7 } }, { tensorType: { elemType: 1, shape: { dim: [{ dimValue: -3 }, { dimParam: 'N' }] } } }]); break;
    case 6: if (node) node.opType = pick(rng, ['Relu', 'Conv', 'Gemm', 'Nope', 'Loop', 'MaxPool', 'Flatten', 'Softmax', '']); break;
    case 7: if (node) node.input = node.input.map((x) => (rng.uniform() < 0.5 ? pick(rng, ['missing', '', x]) : x)); break;
    case 8: if (node?.attribute?.[0]) { const a = node.attribute[0]; a.ints = [pick(rng, weird), pick(rng, weird)]; a.i = pick(rng, weird); } break;
    case 9: if (node) node.attribute = [...(node.attribute ?? []), { name: pick(rng, ['kernel_shape', 'pads', 'strides', 'group', 'axis', 'transB', 'dilations']), type: 7, ints: [pick(rng, weird), pick(rng, weird)] }]; break;
    case 10: model.opsetImport = [{ domain: '', version: pick(rng, [0, 1, 10, 11, 13, 17, 21, 22, 99]) }]; break;
    case 11: if (node) g.node.splice(g.node.indexOf(node), 1); break;
    case 12: if (node && g.node.length > 1) { g.node.reverse(); } break;
    case 13: if (tensor) tensor.name = pick(rng, ['', g.input?.[0]?.name ?? 'input', 'other']); break;
    case 14: if (node) node.output = pick(rng, [[], ['x', 'y'], [''], node.output]); break;
    default: if (tensor && tensor.dataType === 1 && tensor.rawData && tensor.rawData.length % 4 === 0) { const f = new Float32Array(Uint8Array.from(tensor.rawData).buffer); f[int(rng, f.length)] = pick(rng, [Number.NaN, Infinity, 1e38]); tensor.rawData = new Uint8Array(f.buffer); } break;
  }
}

/** Parse, then read the graph as every command does first. */
function parseAndView(bytes: Uint8Array): void {
  const model = parseModel(bytes);
  const view = new GraphView(normalizeOpset(model).graph!);
  for (const t of view.graph.initializer ?? []) view.constant(t.name ?? '');
}

test('20,000 ONNX byte and field mutations parse to a model or a ConvlensError', async () => {
  const rng = new Rng(14);
  const outcomes = new Outcomes();
  for (let i = 0; i < 12_000; i++) {
    const bytes = mutateBytes(rng, base);
    await outcomes.run(`bytes #${i}`, () => parseAndView(bytes));
  }
  for (let i = 0; i < 8_000; i++) {
    const model = decodeModelProto(base);
    for (let k = 1 + int(rng, 3); k > 0; k--) mutateFields(rng, model);
    let bytes: Uint8Array;
    try {
      bytes = serializeModel(model);
    } catch {
      continue; // a mutation the wire format cannot hold (e.g. NaN in an int64 field) is not an input
    }
    await outcomes.run(`fields #${i}`, () => parseAndView(bytes));
  }
  outcomes.assertClean();
  assert.ok(outcomes.ok > 100 && outcomes.userErrors > 1000, `ok ${outcomes.ok}, errors ${outcomes.userErrors}`);
});

test('600 full explains of mutated tiny models, images and .npy tensors end in a result or a ConvlensError', { timeout: 120_000 }, async () => {
  const rng = new Rng(1414);
  const outcomes = new Outcomes();
  const png = new Uint8Array(await sharp({ create: { width: 12, height: 10, channels: 3, background: '#808080' } }).png().toBuffer());
  const ids = methods.map((m) => m.id);
  for (let i = 0; i < 600; i++) {
    // Mostly the tiny net (fast); every fourth case a zoo model.
    const { bytes: modelBytes, dims } = i % 4 === 3 ? pick(rng, explainBases.slice(1)) : explainBases[0]!;
    const size = dims.reduce((a, b) => a * b, 1);
    const npy = encodeNpy({ data: new Float32Array(size).map((_, p) => Math.sin(p)), dims });
    const [, , height, width] = dims as [number, number, number, number];
    const model = decodeModelProto(modelBytes);
    // 0: a mutated model; 1: a mutated or odd-sized image; 2: a mutated .npy; 3: all valid, varied settings.
    const kind = pick(rng, [0, 0, 1, 2, 3, 3]);
    if (kind === 0) for (let k = 1 + int(rng, 2); k > 0; k--) mutateFields(rng, model);
    const method = pick(rng, ids);
    await outcomes.run(`explain #${i} (${method})`, async () => {
      const parsed = parseModel(serializeModel(model));
      let tensor;
      if (kind === 1) {
        const odd = async () => new Uint8Array(await sharp({ create: { width: 1 + int(rng, 300), height: 1 + int(rng, 3), channels: pick(rng, [3, 4] as const), background: '#404040' } }).greyscale(rng.uniform() < 0.5).png().toBuffer());
        const bytes = rng.uniform() < 0.5 ? mutateBytes(rng, png) : await odd();
        const { image } = await loadImageForModel(bytes, { height, width, resize: pick(rng, ['stretch', 'center-crop'] as const) });
        // NCHW planes from the RGB pixels.
        tensor = { data: Float32Array.from({ length: size }, (_, p) => image.data[3 * (p % (height * width)) + (Math.floor(p / (height * width)) % 3)]! / 255), dims };
      } else {
        tensor = parseNpy(kind === 2 ? mutateBytes(rng, npy) : npy);
      }
      await using explainer = await Explainer.create(parsed);
      // Small settings for the slow methods, where the method has them.
      const small: Record<string, number> = { steps: 2, samples: 2, masks: 4, window: 3, stride: 3 };
      const own = new Set(methods.find((m) => m.id === method)!.options.map((o) => o.name));
      const options = {
        target: pick(rng, ['auto', 0, 2, 7, { topK: 2 }] as const),
        batchSize: 1 + int(rng, 3),
        ...Object.fromEntries(Object.entries(small).filter(([k]) => own.has(k))),
      };
      const results = await explainer.explain(tensor, method, options);
      assert.ok(results.length > 0);
    });
  }
  outcomes.assertClean();
  console.log(`explains: ${outcomes.ok} results, ${outcomes.userErrors} ConvlensErrors`);
  assert.ok(outcomes.ok > 200, `ok ${outcomes.ok}, errors ${outcomes.userErrors}`);
});
