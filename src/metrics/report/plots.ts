/**
 * The evaluation plots: Vega-Lite specs compiled to Vega and rendered to SVG server-side
 * (vega's View with the 'none' renderer needs no canvas). Deletion/insertion mean curves per
 * method, and the randomization cascade (mean similarity per randomized layer).
 */
import type { EvaluationResult } from '../evaluate.ts';

type Spec = Record<string, unknown>;

export async function renderSvg(spec: Spec): Promise<string> {
  const [{ compile }, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 360, height: 220, background: 'white' };

/** The mean curve of each method for one causal metric. */
export function curveSpec(result: EvaluationResult, metric: 'deletion' | 'insertion'): Spec | undefined {
  const curves = result.curves[metric];
  if (!curves) return undefined;
  const values = Object.entries(curves).flatMap(([method, c]) => c.x.map((x, i) => ({ method, fraction: x, score: c.y[i]! })));
  return {
    ...base,
    title: `${metric}: mean class score (${metric === 'deletion' ? 'lower area is better' : 'higher area is better'})`,
    data: { values },
    mark: { type: 'line', interpolate: 'linear' },
    encoding: {
      x: { field: 'fraction', type: 'quantitative', title: `fraction of pixels ${metric === 'deletion' ? 'removed' : 'inserted'}`, scale: { domain: [0, 1] } },
      y: { field: 'score', type: 'quantitative', title: 'class score' },
      color: { field: 'method', type: 'nominal' },
    },
  };
}

/** Mean Spearman and SSIM against the trained model's maps, per cascading stage. */
export function cascadeSpec(result: EvaluationResult): Spec | undefined {
  const entries = Object.entries(result.cascades);
  if (entries.length === 0) return undefined;
  // Stage 0 is the trained model, identical to itself.
  const values = entries.flatMap(([method, c]) =>
    ['none (trained)', ...c.layers].flatMap((layer, k) => [
      { method, stage: k, layer, measure: 'Spearman |map|', similarity: k === 0 ? 1 : c.spearman[k - 1]! },
      { method, stage: k, layer, measure: 'SSIM', similarity: k === 0 ? 1 : c.ssim[k - 1]! },
    ]),
  );
  return {
    ...base,
    width: 420,
    title: 'model randomization (cascading, top-down): similarity to the trained maps',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'stage', type: 'ordinal', title: 'layers randomized (from the output)', axis: { labelAngle: 0 } },
      y: { field: 'similarity', type: 'quantitative', title: 'similarity', scale: { domain: [-0.2, 1] } },
      color: { field: 'method', type: 'nominal' },
      strokeDash: { field: 'measure', type: 'nominal' },
      tooltip: [{ field: 'layer' }],
    },
  };
}
