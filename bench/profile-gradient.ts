/**
 * Per-op-type kernel time of the forward pass and the input-gradient graph of the random
 * ResNet-50 (onnxruntime profiling, 4 runs after session creation): where the gradient's
 * cost goes (BENCHMARKS.md, "Input-gradient cost").
 *
 *   node --import tsx bench/profile-gradient.ts [BATCH]
 */
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync } from 'node:fs';
import { resnet50 } from './models.ts';
import { GradientEngine } from '../src/autodiff/engine.ts';
import { serializeModel } from '../src/model/model.ts';
const batch = Number(process.argv[2] ?? 8);
const model = resnet50(1);
const e = new GradientEngine(model);
const shape = [batch, 3, 224, 224];
const s = await e.specialize(shape);
const { compileSpecialized } = await import('../src/autodiff/compile.ts');
const fwd = serializeModel(s.model);
const comp = compileSpecialized(s, { inputShape: shape, wrt: ['input'] });
const bytes = serializeModel(comp.model);
async function prof(name: string, b: Uint8Array, weights: boolean) {
  const sess = await ort.InferenceSession.create(b, { enableProfiling: true, profileFilePrefix: `/tmp/prof-${name}`, graphOptimizationLevel: 'all' });
  const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor('float32', new Float32Array(shape.reduce((a, c) => a * c, 1)).map(() => Math.random()), shape) };
  if (weights) feeds[comp.targetWeight] = new ort.Tensor('float32', new Float32Array(comp.targetShape.reduce((a, c) => a * c, 1)).fill(0.001), comp.targetShape);
  for (let i = 0; i < 4; i++) await sess.run(feeds);
  const file = sess.endProfiling();
  await sess.release();
  return file;
}
for (const [name, b, w] of [['fwd', fwd, false], ['grad', bytes, true]] as const) {
  await prof(name, b, w);
  const f = readdirSync('/tmp').filter((x) => x.startsWith(`prof-${name}`)).sort().pop()!;
  const events = JSON.parse(readFileSync(`/tmp/${f}`, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  let total = 0;
  for (const ev of events) if (ev.cat === 'Node' && ev.name.endsWith('_kernel_time')) { const op = ev.args?.op_name ?? '?'; byOp.set(op, (byOp.get(op) ?? 0) + ev.dur / 4); total += ev.dur / 4; }
  console.log(name, 'total ms per run', (total / 1000).toFixed(1));
  for (const [op, d] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log('  ', op.padEnd(28), (d / 1000).toFixed(1), 'ms', ((100 * d) / total).toFixed(1) + '%');
}
await e.release();
