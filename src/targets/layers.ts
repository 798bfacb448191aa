/**
 * Candidate layers for spatial explanations (the CAM family, feature maps): tensors with
 * a batch, a channel and spatial dims larger than 1x1, in topological order (layout
 * transposes left out).
 */
import { ConvlensError } from '../errors.ts';
import type { Specialized } from '../runtime/specialize.ts';
import { isFloatType } from '../model/dtypes.ts';
import { closest } from '../closest.ts';

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
    // A Transpose is a layout view of an earlier layer (e.g. an imported TF model's NCHW -> NHWC
    // before Flatten or at an output), whose axes 2.. are not the spatial ones.
    if (!t || inputs.has(t) || node.opType === 'Constant' || node.opType === 'Transpose') continue;
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

/** A layer by output tensor name, node name, or index in `spatialLayers`. */
export type LayerRef = string | number;

const FOLLOWERS = new Set(['BatchNormalization', 'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Elu', 'Selu', 'HardSwish', 'Sigmoid', 'Tanh']);

/**
 * Every convolution's output, followed through a BatchNormalization and/or activation
 * that is its only consumer (so each conv contributes its post-activation map once).
 */
export function convLayers(s: Specialized): LayerInfo[] {
  const candidates = spatialLayers(s);
  const byTensor = new Map(candidates.map((l) => [l.tensor, l]));
  const out: LayerInfo[] = [];
  for (const l of candidates) {
    if (l.op !== 'Conv') continue;
    let t = l.tensor;
    for (let consumers = s.view.consumers(t); consumers.length === 1 && FOLLOWERS.has(consumers[0]!.opType); consumers = s.view.consumers(t)) {
      t = consumers[0]!.output[0]!;
    }
    const layer = byTensor.get(t);
    if (layer && !out.includes(layer)) out.push(layer);
  }
  return out;
}

export class LayerError extends ConvlensError {
  override name = 'LayerError';
}

/**
 * The name a user most likely meant by `ref`: the last (deepest) of `names` that contains
 * it (e.g. 'layer4' in a torchvision ResNet's tensor names), else the closest by edit distance.
 */
export function suggestName(ref: string, names: readonly string[]): string | undefined {
  const needle = ref.toLowerCase();
  return names.filter((n) => n.toLowerCase().includes(needle)).at(-1) ?? closest(ref, names.filter(Boolean));
}

function describe(layers: LayerInfo[]): string {
  const shown = layers.slice(-12).map((l) => `${l.index}: ${l.tensor} [${l.shape.join('x')}]`);
  return `${layers.length > 12 ? `... ${layers.length - 12} more, ` : ''}${shown.join(', ')}`;
}

/** The tensors `target` is computed from (itself included). */
function ancestors(s: Specialized, target: string): Set<string> {
  const seen = new Set<string>();
  for (const stack = [target]; stack.length > 0; ) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push(...(s.view.producer(t)?.node.input.filter(Boolean) ?? []));
  }
  return seen;
}

/**
 * Resolve layer references (default: the last spatial layer, of those `target` depends on
 * when given, e.g. a detector's class heat map rather than its box output; 'all': every conv layer).
 */
export function resolveLayers(s: Specialized, refs: readonly LayerRef[] | 'all' | undefined, target?: string): LayerInfo[] {
  const layers = spatialLayers(s);
  if (layers.length === 0) throw new LayerError('the model has no layer with spatial dimensions (rank >= 3, larger than 1x1): spatial methods do not apply');
  if (refs === 'all') return convLayers(s);
  if (!refs || refs.length === 0) {
    const from = target === undefined ? undefined : ancestors(s, target);
    const feeding = from ? layers.filter((l) => from.has(l.tensor) && l.tensor !== target) : layers;
    return [(feeding.length > 0 ? feeding : layers).at(-1)!];
  }
  return refs.map((ref) => {
    if (typeof ref === 'number') {
      const l = layers[ref < 0 ? layers.length + ref : ref];
      if (!l) throw new LayerError(`layer index ${ref} is out of range: the model has ${layers.length} spatial layers (0..${layers.length - 1})`);
      return l;
    }
    const l = layers.find((x) => x.tensor === ref) ?? layers.find((x) => x.node === ref);
    if (l) return l;
    const shape = s.shapes.get(ref);
    if (shape) throw new LayerError(`layer '${ref}' has shape [${shape.join(', ')}], not a spatial map: choose one of ${describe(layers)}`);
    const guess = suggestName(ref, layers.map((l) => l.tensor));
    throw new LayerError(`the model has no layer '${ref}'${guess ? ` (did you mean '${guess}'?)` : ''}; spatial layers are ${describe(layers)} (see \`convlens layers\`)`);
  });
}
