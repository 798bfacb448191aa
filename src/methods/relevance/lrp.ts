/**
 * Layer-wise relevance propagation. Bach et al. 2015, "On Pixel-Wise Explanations for
 * Non-Linear Classifier Decisions by Layer-Wise Relevance Propagation"; Montavon et al.
 * 2019, "Layer-Wise Relevance Propagation: An Overview" (section 10.2: the rules, 10.3:
 * which rule for which layer). The explained score R = f(x) (times the target weights)
 * is redistributed layer by layer down to the input pixels by a composite of rules (see
 * src/autodiff/relevance/composites.ts); the result is a signed [C, H, W] relevance image
 * whose sum is the score minus what biases and stabilizers absorbed (all of it for
 * epsilon-LRP on bias-free ReLU networks).
 */
import { compositeNames, compositeRules, type CompositeName, type CompositeParams } from '../../autodiff/relevance/composites.ts';
import { graphFacts, type GraphFacts } from '../../autodiff/relevance/facts.ts';
import type { Box } from '../../autodiff/relevance/layer.ts';
import type { RuleTable } from '../../autodiff/rule.ts';
import { OptionError } from '../../errors.ts';
import { channelNormalization, presetNames, type PresetName } from '../../input/presets.ts';
import type { Specialized } from '../../runtime/specialize.ts';
import type { MethodContext } from '../context.ts';
import { outputDims } from '../gradient/base.ts';
import type { Method, RawResult } from '../types.ts';

export interface LrpOptions {
  composite: CompositeName;
  epsilon: number;
  gamma: number;
  alpha: number;
  beta: number;
  /** The preprocessing preset whose input range bounds the z^B rule (null: imagenet, unless the caller knows the images' preset and passes it). */
  box: PresetName | null;
  /** Overrides of the box's low and high bounds (one value for every channel). */
  low: number | null;
  high: number | null;
}

/** The range of normalized pixel values under a preset: (0 - mean) / std .. (255 scale - mean) / std per channel. */
export function presetBox(preset: PresetName, channels: number): Box {
  const n = channelNormalization(preset, channels === 1 ? 1 : 3);
  return {
    low: n.mean.map((m, c) => (0 - m) / n.std[c]!),
    high: n.mean.map((m, c) => (255 * n.scale - m) / n.std[c]!),
  };
}

const factsOf = new WeakMap<Specialized, { facts: GraphFacts; tables: Map<string, RuleTable> }>();

/** The composite's rule table for this model (one object per parameter set, so compiled graphs are reused). */
export function relevanceTable(s: Specialized, params: CompositeParams): RuleTable {
  let entry = factsOf.get(s);
  if (!entry) factsOf.set(s, (entry = { facts: graphFacts(s.view), tables: new Map() }));
  const key = JSON.stringify(params);
  let table = entry.tables.get(key);
  if (!table) entry.tables.set(key, (table = compositeRules(params, entry.facts)));
  return table;
}

function paramsOf(ctx: MethodContext, o: LrpOptions): CompositeParams {
  if (Math.abs(o.alpha - o.beta - 1) > 1e-9) throw new OptionError(`lrp needs alpha - beta = 1 to conserve relevance; got alpha ${o.alpha}, beta ${o.beta} (e.g. alpha 2, beta 1)`);
  const box = presetBox(o.box ?? 'imagenet', ctx.geometry.channels);
  if (o.low !== null) box.low = box.low.map(() => o.low!);
  if (o.high !== null) box.high = box.high.map(() => o.high!);
  if (box.low.some((l, c) => !(l < box.high[c]!))) throw new OptionError(`lrp box bounds: low must be below high (low ${box.low.join(', ')}, high ${box.high.join(', ')})`);
  return { composite: o.composite, epsilon: o.epsilon, gamma: o.gamma, alpha: o.alpha, beta: o.beta, box };
}

export const lrp: Method<LrpOptions> = {
  id: 'lrp',
  family: 'relevance',
  output: 'image',
  usesLayers: false,
  needsGradients: true,
  relu: false,
  signed: true,
  paper: 'Bach et al. 2015, https://doi.org/10.1371/journal.pone.0130140; Montavon et al. 2019, https://doi.org/10.1007/978-3-030-28954-6_10 (section 10.2-10.3)',
  summary: 'The score redistributed layer by layer to the pixels by relevance rules: signed evidence that sums to the score.',
  options: [
    { name: 'composite', type: 'choice', choices: compositeNames, default: 'epsilon-plus', help: 'rules per layer (zennit names): epsilon (= Captum LRP), epsilon-plus, epsilon-plus-flat, epsilon-gamma-box, epsilon-alpha2-beta1' },
    { name: 'epsilon', type: 'number', default: 1e-6, above: 0, help: 'stabilizer of the epsilon rule (dense layers; every layer in the epsilon composite)' },
    { name: 'gamma', type: 'number', default: 0.25, min: 0, help: 'weight of positive contributions in the gamma rule (epsilon-gamma-box)' },
    { name: 'alpha', type: 'number', default: 2, min: 1, flag: 'lrp-alpha', help: 'alpha of the alpha-beta rule; alpha - beta must be 1' },
    { name: 'beta', type: 'number', default: 1, min: 0, flag: 'lrp-beta', help: 'beta of the alpha-beta rule' },
    { name: 'box', type: 'choice', choices: presetNames, default: null, flag: 'lrp-box', help: "preset whose input range bounds the z^B rule (epsilon-gamma-box); unset: the images' preset where known (convlens explain, the explorer), else imagenet" },
    { name: 'low', type: 'number', default: null, help: 'lowest input value for z^B (overrides the preset)' },
    { name: 'high', type: 'number', default: null, help: 'highest input value for z^B (overrides the preset)' },
  ],
  run: async (ctx, options): Promise<RawResult[]> => {
    const rules = relevanceTable(ctx.specialized, paramsOf(ctx, options));
    const rows = Array.from({ length: ctx.rows }, (_, i) => i);
    const images = ctx.rowImages();
    const weights = ctx.weights(rows);
    const input = ctx.specialized.view.inputs[0]!.name;
    const res = await ctx.run({ wrt: [input], rules, seed: 'weighted-target' }, images, weights);
    if (weights === 'argmax') ctx.targets = { ...ctx.targets, classes: ctx.classesFrom(res) };
    const dims = outputDims(ctx, 'image');
    return rows.map((row) => {
      const values = ctx.toCHW(res.gradients[input]!, row);
      return { row, values, dims, extras: { relevance: values.reduce((a, b) => a + b, 0) } };
    });
  },
};
