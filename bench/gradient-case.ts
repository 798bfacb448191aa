/**
 * One benchmark case of the gradient compiler, run in its own process so that its peak
 * memory is its own: `node --import tsx bench/gradient-case.ts resnet50|vgg16 BATCH`.
 * Prints one JSON line: medians (ms) of the forward pass and of each compiled graph, all
 * measured in this one run.
 */
import { resnet50, vgg16, imagenetInputShape, resnet50SpatialLayer, vgg16SpatialLayer } from './models.ts';
import { specializeFor, compileSpecialized } from '../src/autodiff/compile.ts';
import { gradientRules } from '../src/autodiff/rules/index.ts';
import { convRule } from '../src/autodiff/rules/conv.ts';
import { maxPoolRule } from '../src/autodiff/rules/pooling.ts';
import type { RuleTable } from '../src/autodiff/rule.ts';
import { Session, type Tensor } from '../src/runtime/session.ts';
import { median, peakRssMb, timed } from './timing.ts';

const [name = 'resnet50', batchText = '1'] = process.argv.slice(2);
const batch = Number(batchText);
const build = name === 'vgg16' ? vgg16 : resnet50;
const layer = name === 'vgg16' ? vgg16SpatialLayer : resnet50SpatialLayer;
const repeats = Number(process.env['BENCH_REPEATS'] ?? 5);

const shape = imagenetInputShape(batch);
const image: Tensor = { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), dims: shape };
const weight: Tensor = { data: new Float32Array(batch * 1000), dims: [batch, 1000] };
for (let n = 0; n < batch; n++) weight.data[n * 1000 + ((n * 37) % 1000)] = 1;

// The default rules use flipped Conv for stride 1 and MaxUnpool for disjoint pool windows;
// the alternatives are measured beside them, in the same process.
const variants: Record<string, { wrt: string; rules: RuleTable }> = {
  'input (default rules)': { wrt: 'input', rules: gradientRules },
  'input, ConvTranspose + ScatterElements': { wrt: 'input', rules: { ...gradientRules, Conv: convRule('transpose'), MaxPool: maxPoolRule('scatter') } },
  'input, flipped Conv + ScatterElements': { wrt: 'input', rules: { ...gradientRules, MaxPool: maxPoolRule('scatter') } },
  'input, ConvTranspose + MaxUnpool': { wrt: 'input', rules: { ...gradientRules, Conv: convRule('transpose') } },
  'last conv stage': { wrt: layer, rules: gradientRules },
};

const model = build(1);
const result: Record<string, number> = {};
const { value: specialized, ms: specializeMs } = await timed(() => specializeFor(model, { inputShape: shape }));
result['specialize (probe + fold) ms'] = specializeMs;
const forward = await Session.create(specialized.model);
const forwardTimes = [await median(() => forward.run({ input: image }), { repeats })];
for (const [label, v] of Object.entries(variants)) {
  const { value: session, ms } = await timed(async () => {
    const compiled = compileSpecialized(specialized, { inputShape: shape, wrt: [v.wrt], rules: v.rules });
    return { session: await Session.create(compiled.model), compiled };
  });
  result[`compile ${label} ms`] = ms;
  result[label] = await median(() => session.session.run({ input: image, [session.compiled.targetWeight]: weight }), { repeats });
  await session.session.release();
}
// The forward pass again at the end: the reference is the faster of the two medians, so a
// slow start of the process does not flatter the ratios.
forwardTimes.push(await median(() => forward.run({ input: image }), { repeats }));
result['forward'] = Math.min(...forwardTimes);
await forward.release();
result['peak RSS MB'] = peakRssMb();
console.log(JSON.stringify({ name, batch, result }));
