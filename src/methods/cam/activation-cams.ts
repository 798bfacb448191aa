/**
 * CAM methods that need only the layer's activations (one forward run, no backward pass).
 */
import type { MethodContext } from '../context.ts';
import type { RawResult } from '../types.ts';
import { rowsOf, type CamInput } from './base.ts';

/** Expose the layers, map each row's activations ('auto' classes are read from the same run). */
export async function activationCams(ctx: MethodContext, map: (input: Omit<CamInput, 'G'>, row: number, layer: string) => Float32Array): Promise<RawResult[]> {
  const layers = ctx.layers.map((l) => l.tensor);
  const res = await ctx.run({ expose: layers }, ctx.rowImages(), undefined);
  ctx.targets = { ...ctx.targets, classes: ctx.classesFrom(res) };
  const out: RawResult[] = [];
  for (let row = 0; row < ctx.rows; row++) {
    for (const layer of layers) {
      const A = res.exposed[layer]!;
      const [channels, height, width] = [A.dims[1]!, A.dims[2]!, A.dims.slice(3).reduce((a, b) => a * b, 1)];
      const n = channels * height * width;
      out.push({ row, layer, values: map({ A: A.data.subarray(row * n, (row + 1) * n), channels, height, width }, row, layer), dims: [height, width] });
    }
  }
  return out;
}
