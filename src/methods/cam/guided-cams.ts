/**
 * Guided Grad-CAM and Guided Grad-CAM++. Selvaraju et al. 2017, section 3.2 (and
 * Chattopadhyay et al. 2018 for ++): the guided-backpropagation image times the CAM
 * upsampled to the input, shown after (g - mean) / (std + 1e-5) * 0.1 + 0.5 clamped to
 * [0, 1] (the deprocessing of the reference implementations).
 */
import type { Method, RawResult } from '../types.ts';
import { inputGradients } from '../gradient/base.ts';
import { mapToInput, relu } from '../postprocess.ts';
import { gradCam } from './grad-cam.ts';
import { gradCamPlusPlus } from './grad-cam-plus-plus.ts';

export function deprocess(g: Float32Array): Float32Array {
  const n = g.length;
  const mean = g.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  return g.map((v) => Math.min(1, Math.max(0, ((v - mean) / (std + 1e-5)) * 0.1 + 0.5)));
}

function guided(id: string, camOf: Method<Record<string, never>>, paper: string): Method<Record<string, never>> {
  return {
    id,
    family: 'cam',
    output: 'image',
    usesLayers: true,
    needsGradients: true,
    relu: false,
    paper,
    summary: `Guided backpropagation masked by ${camOf.id}: fine detail, only where the class evidence is.`,
    options: [],
    run: async (ctx): Promise<RawResult[]> => {
      const cams = await camOf.run(ctx, {});
      const rows = Array.from({ length: ctx.rows }, (_, i) => i);
      const gb = await inputGradients(ctx, 'guided', ctx.rowImages(), ctx.weights(rows));
      const { channels, height, width } = ctx.geometry;
      return cams.map((c) => {
        const mask = mapToInput(relu(c.values), c.dims[0]!, c.dims[1]!, height, width);
        const g = gb[c.row]!;
        const product = g.map((v, i) => v * mask[i % (height * width)]!);
        return { row: c.row, ...(c.layer !== undefined ? { layer: c.layer } : {}), values: deprocess(product), dims: [channels, height, width] };
      });
    },
  };
}

export const guidedGradCam = guided('guided-grad-cam', gradCam, 'Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391 (section 3.2)');
export const guidedGradCamPlusPlus = guided('guided-grad-cam-plus-plus', gradCamPlusPlus, 'Chattopadhyay et al. 2018, https://arxiv.org/abs/1710.11063');
