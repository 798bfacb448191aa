/** The explain command's target flags: parsing, placing on an open model, and demo --real's install hint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { Lens } from '../src/app/lens.ts';
import { parseTargetFlag, resolveTargetFlags } from '../src/cli/target-flags.ts';
import { floatInitializer, valueInfo } from './helpers.ts';

test('-t takes auto, top:K, indices and class names, one or one per input', () => {
  assert.equal(parseTargetFlag('auto'), 'auto');
  assert.deepEqual(parseTargetFlag('top:3'), { topK: 3 });
  assert.equal(parseTargetFlag('7'), 7);
  assert.equal(parseTargetFlag('happy'), 'happy');
  assert.deepEqual(parseTargetFlag('happy, 3,sad'), ['happy', 3, 'sad']);
  assert.throws(() => parseTargetFlag('happy,,sad'), /has an empty class/);
});

/** x [1, 3, 8, 8] -> 1x1 conv (2 classes) with stride 2 -> [1, 2, 4, 4]. */
function dense(): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'dense',
      node: [{ name: 'head', opType: 'Conv', input: ['x', 'W'], output: ['y'], attribute: [{ name: 'kernel_shape', type: 7, ints: [1, 1] }, { name: 'strides', type: 7, ints: [2, 2] }] }],
      initializer: [floatInitializer('W', [2, 3, 1, 1], [1, 0, 0, 0, 1, 0])],
      input: [valueInfo('x', [1, 3, 8, 8])],
      output: [valueInfo('y', [1, 2, 4, 4])],
    },
  };
}

test('--mask reads an image at the input size (white = 1) and --region in input pixels; flag conflicts are one-line errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-flags-'));
  const pixels = new Uint8Array(8 * 8 * 3);
  pixels.fill(255, (2 * 8 + 4) * 3, (2 * 8 + 6) * 3); // row 2, x 4..5 white
  await sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(dir, 'mask.png'));
  await using lens = await Lens.open(dense(), { labels: ['road', 'car'], resize: 'stretch' });
  const masked = await resolveTargetFlags(lens, { target: 'car', mask: join(dir, 'mask.png') });
  const mask = (masked.target as { region: { mask: Float32Array } }).region.mask;
  assert.deepEqual([...mask.keys()].filter((p) => mask[p] !== 0), [20, 21]);
  assert.equal(mask[20], 1);
  const x: { data: Float32Array; dims: number[] } = { data: Float32Array.from({ length: 192 }, (_, i) => i), dims: [1, 3, 8, 8] };
  // Input pixels (4, 2) and (5, 2) lie in output cell (1, 2): mean 2/4 over its 2x2 pixels; y[car] = x[channel 1].
  const [g] = await lens.explain(x, 'gradient', masked);
  const expected = new Array<number>(192).fill(0);
  expected[64 + 2 * 8 + 4] = 0.5;
  assert.deepEqual(Array.from(g!.raw), expected);
  const region = await resolveTargetFlags(lens, { target: '1', region: [4, 2, 6, 4], output: 'y' });
  assert.deepEqual(region, { target: { region: { class: 1, pixels: [4, 2, 6, 4] } }, output: 'y' });
  await assert.rejects(resolveTargetFlags(lens, { target: 'auto', region: [0, 0, 2, 2] }), /--region needs one class: -t NAME or -t INDEX/);
  await assert.rejects(resolveTargetFlags(lens, { target: 'car', region: [0, 0, 2, 2], box: 0 }), /--region and --box are different targets: give one/);
  await assert.rejects(resolveTargetFlags(lens, { target: 'car', box: 'dog' }), /--box sets the target: leave out -t/);
});

test('demo --real without the models: a one-line hint naming the package and --models', async () => {
  const run = promisify(execFile);
  const err = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--real', '--models', '/nonexistent'], { cwd: join(import.meta.dirname, '..') }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  assert.equal(err?.code, 1);
  assert.match(err!.stderr.trim(), /^convlens: --models '\/nonexistent' has no emotion.json and centernet.json: give the models folder of @vladmandic\/human$/);
});
