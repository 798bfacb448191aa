/**
 * Candidate layers for spatial explanations (the CAM family, feature maps): tensors with
 * a batch, a channel and spatial dims larger than 1x1, in topological order.
 */
import type { Specialized } from '../runtime/specialize.ts';
import { isFloatType } from '../model/dtypes.ts';

export interface LayerInfo {
  /** Output tensor name (what `targetLayers` takes). */
  tensor: string;
  /** Name of the node that produces it. */
  node: string;
  op: string;
  shape: number[];
  /** Position in the candidate list. */
  index: number;
}

export function spatialLayers(s: Specialized): LayerInfo[] {
  const out: LayerInfo[] = [];
  const inputs = new Set(s.view.inputs.map((i) => i.name));
  for (const node of s.view.nodes) {
    const t = node.output[0];
    if (!t || inputs.has(t) || node.opType === 'Constant') continue;
    const shape = s.shapes.get(t);
    if (!shape || shape.length < 3 || !isFloatType(s.dtypes.get(t))) continue;
    if (shape.slice(2).reduce((a, b) => a * b, 1) <= 1) continue;
    out.push({ tensor: t, node: node.name ?? '', op: node.opType, shape, index: out.length });
  }
  return out;
}

/** The default layer: the last spatial tensor (before global pooling / the head). */
export function defaultLayer(s: Specialized): LayerInfo | undefined {
  const layers = spatialLayers(s);
  return layers[layers.length - 1];
}
