/**
 * What feature visualization maximizes. Every objective is linear in one tensor of the
 * network: value = sum(weights * tensor), so it is exactly the compiled graph's target
 * (`targetTensor` + target weights) and one run gives its input gradient.
 *
 * - classLogit(c): the pre-softmax score S_c (Simonyan et al. 2014, section 2).
 * - channel(layer, k): the mean of channel k of a layer's activations (Olah et al. 2017's
 *   "channel" objective; Lucid's `objectives.channel`), weights 1/(h w) on that channel.
 * - neuron(layer, k, y, x): one activation (default: the centre position).
 * - sum, scale, negate: linear combinations. Terms on the same tensor merge into one weight
 *   tensor (one run); terms on different tensors stay separate parts, each run once per
 *   step with its own compiled graph, and their input gradients are summed (the gradient of
 *   a sum is the sum of the gradients), so an objective over k tensors costs k runs a step.
 *
 * Weights cover every image of the batch alike (each image maximizes its own objective).
 */
import { OptionError } from '../errors.ts';
import { preSoftmaxTarget } from '../autodiff/compile.ts';
import type { Specialized } from '../runtime/specialize.ts';
import type { Tensor } from '../runtime/session.ts';
import { resolveLayers, type LayerInfo, type LayerRef } from '../targets/layers.ts';

export type ObjectiveTerm =
  | { kind: 'class'; class: number; coefficient: number }
  | { kind: 'channel'; layer: LayerRef; channel: number; coefficient: number }
  | { kind: 'neuron'; layer: LayerRef; channel: number; y?: number; x?: number; coefficient: number };

export interface Objective {
  readonly terms: readonly ObjectiveTerm[];
}

export const classLogit = (c: number): Objective => ({ terms: [{ kind: 'class', class: c, coefficient: 1 }] });

export const channel = (layer: LayerRef, k: number): Objective => ({ terms: [{ kind: 'channel', layer, channel: k, coefficient: 1 }] });

/** One activation; y, x default to the centre of the map (Lucid's `neuron`). */
export function neuron(layer: LayerRef, k: number, y?: number, x?: number): Objective {
  return { terms: [{ kind: 'neuron', layer, channel: k, ...(y === undefined ? {} : { y }), ...(x === undefined ? {} : { x }), coefficient: 1 }] };
}

export const sum = (...objectives: readonly Objective[]): Objective => ({ terms: objectives.flatMap((o) => o.terms) });

export function scale(objective: Objective, s: number): Objective {
  if (!Number.isFinite(s)) throw new OptionError(`an objective can only be scaled by a finite number, not ${s}`);
  return { terms: objective.terms.map((t) => ({ ...t, coefficient: t.coefficient * s })) };
}

export const negate = (objective: Objective): Objective => scale(objective, -1);

/** The weights of an objective on one tensor. */
export interface ObjectivePart {
  tensor: string;
  weights: Tensor;
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function checkIndex(what: string, i: number, count: number, unit: string, layer: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= count) {
    throw new OptionError(`${what} ${i} of '${layer}' is out of range: it has ${count} ${unit} (0..${count - 1})`);
  }
}

/** Weights of one image ([C, ...spatial]) selecting `channel`, or one position of it. */
function layerWeights(term: Extract<ObjectiveTerm, { kind: 'channel' | 'neuron' }>, layer: LayerInfo): Float32Array {
  const [, channels = 1, ...spatial] = layer.shape;
  checkIndex('channel', term.channel, channels, 'channels', layer.tensor);
  const area = size(spatial);
  const row = new Float32Array(channels * area);
  if (term.kind === 'channel') {
    row.fill(term.coefficient / area, term.channel * area, (term.channel + 1) * area);
    return row;
  }
  if (spatial.length !== 2) throw new OptionError(`a neuron needs a layer [N, C, H, W]; '${layer.tensor}' is [${layer.shape.join(', ')}]`);
  const [h, w] = spatial as [number, number];
  const y = term.y ?? Math.floor(h / 2), x = term.x ?? Math.floor(w / 2);
  checkIndex('row y =', y, h, 'rows', layer.tensor);
  checkIndex('column x =', x, w, 'columns', layer.tensor);
  row[term.channel * area + y * w + x] = term.coefficient;
  return row;
}

/**
 * The objective as weights per target tensor, for a model specialized to the input shape
 * (batch = its first dim). `output`: the model output that class terms refer to (default
 * the first); they target its pre-softmax score.
 */
export function resolveObjective(s: Specialized, objective: Objective, options: { output?: string } = {}): ObjectivePart[] {
  if (objective.terms.length === 0) throw new OptionError('the objective is empty: give at least one classLogit, channel or neuron term');
  const output = options.output ?? s.view.outputs[0]!.name;
  if (!s.view.outputs.some((o) => o.name === output)) {
    throw new OptionError(`the model has no output '${output}' (outputs: ${s.view.outputs.map((o) => o.name).join(', ')})`);
  }
  const batch = Object.values(s.inputShapes)[0]![0]!;
  const parts = new Map<string, Tensor>();
  const add = (tensor: string, shape: readonly number[], row: Float32Array) => {
    let part = parts.get(tensor);
    if (!part) parts.set(tensor, (part = { data: new Float32Array(size(shape)), dims: [...shape] }));
    for (let i = 0; i < part.data.length; i++) part.data[i] = part.data[i]! + row[i % row.length]!;
  };
  for (const term of objective.terms) {
    if (term.kind === 'class') {
      // Every position of a dense output [N, classes, ...] gets its class's weight.
      const tensor = preSoftmaxTarget(s, output);
      const [, classes = 1, ...rest] = s.shapes.get(tensor)!;
      checkIndex('class', term.class, classes, 'classes', tensor);
      const perClass = size(rest);
      const row = new Float32Array(classes * perClass).fill(term.coefficient, term.class * perClass, (term.class + 1) * perClass);
      add(tensor, [batch, classes, ...rest], row);
    } else {
      const [layer] = resolveLayers(s, [term.layer]);
      add(layer!.tensor, layer!.shape, layerWeights(term, layer!));
    }
  }
  return [...parts].map(([tensor, weights]) => ({ tensor, weights }));
}

/** sum(weights * activations), in float64. */
export function objectiveValue(weights: Tensor, activations: Tensor): number {
  let s = 0;
  for (let i = 0; i < weights.data.length; i++) {
    const w = weights.data[i]!;
    if (w !== 0) s += w * activations.data[i]!;
  }
  return s;
}
