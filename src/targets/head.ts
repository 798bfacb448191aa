/**
 * The head of a model output: which tensor a target differentiates and how its scores
 * become probabilities. As for softmax classifiers (Simonyan et al. 2014, section 2: the
 * unnormalised class score, not the probability), a sigmoid head (multi-label, binary,
 * heat-map detectors such as CenterNet) is explained before its Sigmoid: the logit, whose
 * gradient does not vanish where the sigmoid saturates. A head without either (plain
 * logits, a regression value, an embedding) is the output itself.
 */
import type { Specialized } from '../runtime/specialize.ts';
import type { Tensor } from '../runtime/session.ts';
import { closest } from '../closest.ts';
import { denseAxes, softmaxRows, TargetError, type TargetContext } from './targets.ts';

/** How the explained scores turn into what a user reads. */
export type Activation = 'softmax' | 'sigmoid' | 'none';

export interface Head {
  /** The model output. */
  output: string;
  /** The tensor differentiated (the input of a final Softmax or Sigmoid, else the output). */
  tensor: string;
  activation: Activation;
}

/** Ops that keep every value (a layout change): the head's activation may lie behind them. */
const PASS_THROUGH = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose']);
const ACTIVATIONS: Record<string, Activation> = { Softmax: 'softmax', LogSoftmax: 'softmax', Sigmoid: 'sigmoid' };

/** The model output named `output` (default: the first), with a did-you-mean when it is not one. */
export function checkOutput(s: Specialized, output?: string): string {
  const outputs = s.view.outputs.map((o) => o.name);
  if (output === undefined) return outputs[0]!;
  if (outputs.includes(output)) return output;
  const near = closest(output, outputs);
  throw new TargetError(`the model has no output '${output}'${near ? ` (did you mean '${near}'?)` : ''}: outputs are ${outputs.join(', ')}`);
}

/**
 * The head of `output`. `raw`: the output itself, for targets defined on the output's own
 * values (an embedding's cosine similarity, a detection's score column).
 */
export function findHead(s: Specialized, output?: string, raw = false): Head {
  const name = checkOutput(s, output);
  if (raw) return { output: name, tensor: name, activation: 'none' };
  for (let t = name, p = s.view.producer(t); p; p = s.view.producer(t)) {
    const activation = ACTIVATIONS[p.node.opType];
    if (activation) return { output: name, tensor: p.node.input[0]!, activation };
    if (!PASS_THROUGH.has(p.node.opType)) break;
    t = p.node.input[0]!;
  }
  return { output: name, tensor: name, activation: 'none' };
}

/**
 * What a user reads from a head's scores [N, K]: softmax probabilities (a softmax head, or
 * plain logits of several classes), sigmoids (a sigmoid head), or NaN for a single raw
 * value (a regression head: the score is the prediction).
 */
export function probabilities(scores: Tensor, activation: Activation): Float32Array {
  if (activation === 'sigmoid') return scores.data.map((v) => 1 / (1 + Math.exp(-v)));
  if (activation === 'none' && scores.data.length === scores.dims[0]) return new Float32Array(scores.data.length).fill(NaN);
  return softmaxRows(scores);
}

/**
 * One score per class [N, K] from a head's scores: a dense head [N, classes, H, W] (or
 * NHWC) scores each class by its best position (a heat-map detector's strongest peak).
 */
export function classScores(scores: Tensor, input?: TargetContext['input']): Tensor {
  const n = scores.dims[0]!;
  if (scores.dims.length !== 4) return { data: scores.data, dims: [n, scores.data.length / n] };
  const axes = denseAxes(scores.dims, input);
  const k = scores.dims[axes.classAxis]!;
  const inner = scores.dims.slice(axes.classAxis + 1).reduce((a, b) => a * b, 1);
  const row = scores.data.length / n;
  const data = new Float32Array(n * k).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < row; p++) {
      const c = Math.floor(p / inner) % k;
      data[i * k + c] = Math.max(data[i * k + c]!, scores.data[i * row + p]!);
    }
  }
  return { data, dims: [n, k] };
}

/** A score as a user reads it: "happy 93.1%", or "value 3.25" for a regression head. */
export function formatScore(s: { label: string; probability: number; score: number }): string {
  return Number.isNaN(s.probability) ? `${s.label} ${s.score.toPrecision(4)}` : `${s.label} ${(100 * s.probability).toFixed(1)}%`;
}
