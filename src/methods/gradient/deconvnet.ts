/**
 * Deconvnet. Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks",
 * section 2.1. Two uses:
 * - from the class score (default): the deconvnet rule set applied to dS_c/dI;
 * - their own use: pick a layer and a channel (and a position; default the strongest
 *   activation of that channel), set every other activation of the layer to zero, and
 *   project the remaining one back to pixel space through the deconvnet rules.
 */
import { ConvlensError } from '../../errors.ts';
import type { LayerRef } from '../../targets/layers.ts';
import { resolveLayers } from '../../targets/layers.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { Method, RawResult } from '../types.ts';
import { gradientMethod, outputDims } from './base.ts';

export interface DeconvnetOptions {
  /** Project one activation of this layer instead of the class score. */
  layer: LayerRef | null;
  /** Channel of `layer` to project (required with `layer`). */
  channel: number | null;
  /** [y, x] in the layer's map (default: the channel's strongest activation per image). */
  position: readonly [number, number] | null;
}

const fromScore = gradientMethod(
  { id: 'deconvnet', paper: 'Zeiler & Fergus 2014, https://arxiv.org/abs/1311.2901 (section 2.1)', summary: 'Reconstructs input patterns through rectified, transposed layers: what drives the score, or one chosen activation.' },
  { rules: 'deconvnet', output: 'image', fromGradient: (g) => g },
);

export class ChannelError extends ConvlensError {
  override name = 'ChannelError';
}

export const deconvnet: Method<DeconvnetOptions> = {
  ...fromScore,
  options: [
    { name: 'layer', type: 'layer', default: null, flag: 'deconv-layer', help: "project one activation of this layer instead of the class score" },
    { name: 'channel', type: 'integer', default: null, min: 0, help: 'channel of the deconvnet layer to project (needed with a layer)' },
    { name: 'position', type: 'integer', length: 2, default: null, min: 0, help: "[y, x] in the layer's map (default: the channel's strongest activation)" },
  ],
  run: async (ctx, options): Promise<RawResult[]> => {
    if (options.layer === null) return fromScore.run(ctx, {});
    const [layer] = resolveLayers(ctx.specialized, [options.layer]);
    const [K, h, w] = [layer!.shape[1]!, layer!.shape[2]!, layer!.shape.slice(3).reduce((a, b) => a * b, 1)];
    const channel = options.channel;
    if (channel === null || !Number.isInteger(channel) || channel < 0 || channel >= K) {
      throw new ChannelError(`deconvnet on layer '${layer!.tensor}' needs a channel between 0 and ${K - 1}${channel === null ? '' : `, not ${channel}`}`);
    }
    if (options.position && !(options.position[0] >= 0 && options.position[0] < h && options.position[1] >= 0 && options.position[1] < w)) {
      throw new ChannelError(`position [${options.position.join(', ')}] is outside the ${h}x${w} map of '${layer!.tensor}'`);
    }
    const images = ctx.rowImages();
    const forward = await ctx.run({ expose: [layer!.tensor] }, images, undefined);
    const A = forward.exposed[layer!.tensor]!;
    // Seed: the layer's activations with all but one zeroed (the kept one keeps its value).
    const seed: Tensor = { data: new Float32Array(A.data.length), dims: A.dims };
    const per = K * h * w;
    for (let r = 0; r < ctx.rows; r++) {
      const base = r * per + channel * h * w;
      let at = options.position ? options.position[0] * w + options.position[1] : 0;
      if (!options.position) for (let p = 1; p < h * w; p++) if (A.data[base + p]! > A.data[base + at]!) at = p;
      seed.data[base + at] = A.data[base + at]!;
    }
    const input = ctx.specialized.view.inputs[0]!.name;
    const res = await ctx.run({ wrt: [input], rules: 'deconvnet', targetTensor: layer!.tensor }, images, seed);
    const dims = outputDims(ctx, 'image');
    return Array.from({ length: ctx.rows }, (_, row) => ({ row, layer: layer!.tensor, values: ctx.toCHW(res.gradients[input]!, row), dims }));
  },
};
