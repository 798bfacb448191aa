/**
 * Large model files are read without their weights (src/model/file-scan.ts): the model
 * read that way is the file's model byte for byte once its weights are read, nothing is
 * read before a weight is used, and any damaged file fails as the ordinary parser says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFile, type DeferOptions } from '../src/model/file.ts';
import { encodeModelProto, type TensorProto } from '../src/model/onnx-proto.ts';
import { readTensorProto } from '../src/model/tensor-data.ts';
import { fixture } from './helpers.ts';

const eager: DeferOptions = { fileBytes: Infinity, tensorBytes: Infinity };
const lazy: DeferOptions = { fileBytes: 0, tensorBytes: 1024 };
const models = ['reference/alexnetish/model.onnx', 'reference/tiny-vgg/model.onnx', 'reference/dense-se/model.onnx'].map(fixture);
models.push(new URL('../models/fashion-mnist/model.onnx', import.meta.url).pathname);

const isDeferred = (t: TensorProto) => Object.getOwnPropertyDescriptor(t, 'rawData')?.get !== undefined;

/** What reading a file gives: its encoded model, or the error message. */
function outcome(path: string, defer: DeferOptions): string {
  try {
    return Buffer.from(encodeModelProto(readModelFile(path, undefined, defer))).toString('base64');
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

test('a model read with deferred weights encodes to the same bytes as the model read whole', () => {
  for (const path of models) {
    const model = readModelFile(path, undefined, lazy);
    const deferred = model.graph!.initializer!.filter(isDeferred);
    assert.ok(deferred.length > 0, `${path}: some weights are deferred`);
    assert.deepEqual(encodeModelProto(model), encodeModelProto(readModelFile(path, undefined, eager)), path);
  }
});

test('a model with some weights in an external data file reads the same with deferred weights', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-scan-'));
  try {
    const model = readModelFile(models[1]!, undefined, eager);
    const [outside, ...inside] = model.graph!.initializer!.filter((t) => (t.rawData?.length ?? 0) >= 1024);
    assert.ok(outside && inside.length > 0);
    writeFileSync(join(dir, 'weights.bin'), outside.rawData!);
    Object.assign(outside, { rawData: new Uint8Array(0), dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }] });
    const path = join(dir, 'model.onnx');
    writeFileSync(path, encodeModelProto(model));
    const read = readModelFile(path, undefined, lazy);
    assert.equal(read.graph!.initializer!.filter(isDeferred).length, inside.length, 'the weights inside the file are deferred');
    assert.deepEqual(encodeModelProto(read), encodeModelProto(readModelFile(path, undefined, eager)));
    assert.deepEqual(encodeModelProto(read), encodeModelProto(readModelFile(models[1]!, undefined, eager)), 'the external weights are inlined as they were');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deferred weights are read only when used, from the file as it was when opened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-scan-'));
  try {
    const path = join(dir, 'model.onnx');
    copyFileSync(models[0]!, path);
    const model = readModelFile(path, undefined, lazy);
    const [first, second] = model.graph!.initializer!.filter(isDeferred);
    const before = readTensorProto(first!).data;
    // The file changes after the open: a weight read before stays; one read after is refused.
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(readTensorProto(first!).data, before);
    assert.throws(() => second!.rawData, /changed on disk while convlens was reading it: run the command again/);
    // The graph itself was read with the file.
    assert.ok(model.graph!.node.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged large file fails (or reads) exactly as when read whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-scan-'));
  try {
    const bytes = readFileSync(models[1]!);
    const path = join(dir, 'damaged.onnx');
    const cases: [string, Uint8Array][] = [];
    // Cut at many points: inside the header, inside a weight, at the end of the graph.
    for (const f of [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]) cases.push([`cut at ${f}`, bytes.subarray(0, Math.floor(bytes.length * f))]);
    const flipped = Uint8Array.from(bytes);
    for (let i = 7; i < flipped.length; i += 9973) flipped[i] = (flipped[i]! ^ 0xa5) & 0xff;
    cases.push(['bytes flipped', flipped]);
    cases.push(['random bytes', Uint8Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24)]);
    for (const [name, damaged] of cases) {
      writeFileSync(path, damaged);
      const whole = outcome(path, eager);
      assert.equal(outcome(path, lazy), whole, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
