/** The shapes of methods and their results, shared by the base, the registry and the UIs. */
import type { LayerRef } from '../targets/layers.ts';
import type { Target } from '../targets/targets.ts';
import type { MethodContext } from './context.ts';
import type { OptionSchema } from './options.ts';

export type MethodFamily = 'gradient' | 'cam' | 'perturbation' | 'relevance';

/** 'image': a [C, H, W] attribution image; 'map': an [H, W] heat map. */
export type OutputKind = 'image' | 'map';

export interface CommonOptions {
  /** What to explain (default 'auto': each image's predicted class). */
  target?: Target;
  /** The model output explained (default: the first), for models with several outputs. */
  output?: string;
  /** Layers for spatial methods (default: the last spatial layer; 'all': every conv layer). */
  targetLayers?: readonly LayerRef[] | 'all';
  /** With several layers, also return their fused map (mean of the normalized maps). */
  fuse?: boolean;
  /** Explain what lowers the score: the target weights are negated. */
  counterfactual?: boolean;
  /** Images (or perturbed copies) per onnxruntime run (default 8). */
  batchSize?: number;
  /** Seed for random methods (default 0). */
  seed?: number;
}

export interface Explanation {
  method: string;
  /** Index of the explained image in the input batch. */
  image: number;
  /** The explained class, where the target is a class. */
  class: number | undefined;
  /** The explained detection's or region's box, [x0, y0, x1, y1] in input pixels. */
  box?: readonly [number, number, number, number];
  /** The layer (tensor name) of a spatial method; 'fused' for the fusion of several. */
  layer?: string;
  kind: OutputKind;
  /** Unnormalized values: CAMs at layer resolution after ReLU, other maps and images at input resolution. */
  raw: Float32Array;
  rawDims: number[];
  /** What to show: maps upsampled to the input [H, W] and normalized as the method defines; images as raw [C, H, W]. */
  values: Float32Array;
  dims: number[];
  /** Method-specific numbers (e.g. integrated gradients' convergence delta). */
  extras?: Record<string, number>;
  /** What the user should know about this result (e.g. a blank map and why). */
  warnings?: string[];
}

/** One row of output before post-processing: a map at some resolution, or an image. */
export interface RawResult {
  row: number;
  layer?: string;
  values: Float32Array;
  dims: number[];
  extras?: Record<string, number>;
  warnings?: string[];
}

export interface MethodInfo {
  id: string;
  family: MethodFamily;
  output: OutputKind;
  /** Uses `targetLayers` (the CAM family, Score-CAM, Ablation-CAM). */
  usesLayers: boolean;
  /** Needs a compiled backward pass (false: forward passes only). */
  needsGradients: boolean;
  /** Applies a ReLU to its raw map (as the paper defines). */
  relu: boolean;
  /** Its values are signed attributions (positive for, negative against): drawn on a diverging colormap centered at 0. */
  signed?: true;
  /** false: the result does not depend on a class (Eigen-CAM), so it claims none. */
  usesTarget?: false;
  paper: string;
  summary: string;
}

export interface Method<O = Record<string, unknown>> extends MethodInfo {
  /** Method-specific options (type, default, range, help): CLI flags, explorer controls, README and validation come from it. */
  options: OptionSchema;
  run(ctx: MethodContext, options: O): Promise<RawResult[]>;
}
