/**
 * The shared flow of input-gradient methods: one compiled run under a rule set gives
 * dS/dx for every row; a method turns (gradient, image) into its output. SmoothGrad and
 * the guided CAMs reuse the same pieces.
 */
import type { RuleSetName } from '../../autodiff/rulesets.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { MethodContext } from '../context.ts';
import type { Method, MethodInfo, OutputKind, RawResult } from '../types.ts';

/** [C, H, W] gradient and image of one row -> the method's output ([C,H,W] or [H,W]). */
export type FromGradient = (g: Float32Array, x: Float32Array, channels: number) => Float32Array;

export interface GradientSpec {
  rules: RuleSetName;
  output: OutputKind;
  fromGradient: FromGradient;
}

/** dS/dx under `rules` for every row of `inputs` ([C, H, W] per row, in that order). */
export async function inputGradients(ctx: MethodContext, rules: RuleSetName, inputs: Tensor, weights: Tensor | 'argmax'): Promise<Float32Array[]> {
  const input = ctx.specialized.view.inputs[0]!.name;
  const res = await ctx.run({ wrt: [input], rules }, inputs, weights);
  if (weights === 'argmax') ctx.targets = { ...ctx.targets, classes: ctx.classesFrom(res) };
  const g = res.gradients[input]!;
  return Array.from({ length: inputs.dims[0]! }, (_, r) => ctx.toCHW(g, r));
}

/** The output dims of a per-row result. */
export function outputDims(ctx: MethodContext, kind: OutputKind): number[] {
  const { channels, height, width } = ctx.geometry;
  return kind === 'image' ? [channels, height, width] : [height, width];
}

export function gradientMethod(info: Omit<MethodInfo, 'family' | 'output' | 'usesLayers' | 'needsGradients' | 'relu'>, spec: GradientSpec): Method<Record<string, never>> & { gradient: GradientSpec } {
  return {
    ...info,
    family: 'gradient',
    output: spec.output,
    usesLayers: false,
    needsGradients: true,
    relu: false,
    options: [],
    gradient: spec,
    run: async (ctx): Promise<RawResult[]> => {
      const rows = Array.from({ length: ctx.rows }, (_, i) => i);
      const images = ctx.rowImages();
      const grads = await inputGradients(ctx, spec.rules, images, ctx.weights(rows));
      const dims = outputDims(ctx, spec.output);
      return grads.map((g, row) => ({ row, values: spec.fromGradient(g, ctx.toCHW(images, row), ctx.geometry.channels), dims }));
    },
  };
}

/** max over channels of |v| at each pixel (Simonyan et al. 2014, section 3.1). */
export function maxAbsOverChannels(v: Float32Array, channels: number): Float32Array {
  const area = v.length / channels;
  const out = new Float32Array(area);
  for (let k = 0; k < channels; k++) for (let p = 0; p < area; p++) out[p] = Math.max(out[p]!, Math.abs(v[k * area + p]!));
  return out;
}
