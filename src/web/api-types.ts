/**
 * The JSON shapes of the explorer's HTTP API (see API.md), shared by the server and the
 * browser client. Types only: importing this file brings no code into either side.
 */
import type { ColormapName } from '../viz/colormaps.ts';
import type { MethodFamily, OutputKind } from '../methods/types.ts';
import type { OptionSchema } from '../methods/options.ts';

export interface ApiError {
  error: string;
}

export interface MethodEntry {
  id: string;
  family: MethodFamily;
  output: OutputKind;
  usesLayers: boolean;
  needsGradients: boolean;
  paper: string;
  summary: string;
  /** Its attribution images are signed: drawn summed over channels on a diverging colormap centered at 0. */
  signed: boolean;
  defaults: Record<string, unknown>;
  /** The method's option schema: the explorer renders its controls from it. */
  options: OptionSchema;
}

export interface LayerEntry {
  /** Output tensor name: what `layer` takes in requests. */
  tensor: string;
  node: string;
  op: string;
  /** Shape for one image, batch included. */
  shape: number[];
  index: number;
  /** A convolution's (post BN/activation) output: shown in the activation overview. */
  conv: boolean;
}

export interface ModelInfo {
  name: string;
  /** The input's shape for one image, e.g. [1, 3, 224, 224]. */
  inputShape: number[];
  layout: 'nchw' | 'nhwc';
  channels: number;
  height: number;
  width: number;
  preset: string;
  resize: 'stretch' | 'center-crop';
  classes: number;
  labels: string[] | null;
  layers: LayerEntry[];
  /** The default layer of spatial methods (the last spatial layer). */
  defaultLayer: string | null;
  /** Conv layers whose kernels `GET /api/filters` can show (node names). */
  filterLayers: string[];
  summary: {
    parameters: number;
    macs: number;
    nodes: Record<string, number>;
    rows: { node: string; op: string; output: string; shape: number[]; parameters: number; macs: number }[];
  };
}

export interface SampleEntry {
  name: string;
  /** Image id to pass to predict / explain / activations. */
  id: string;
}

export interface ImageEntry {
  id: string;
  name: string;
  width: number;
  height: number;
}

export interface Prediction {
  class: number;
  label: string;
  probability: number;
  score: number;
}

export interface PredictResponse {
  image: string;
  top: Prediction[];
  ms: number;
}

export interface ExplainRequest {
  image: string;
  method: string;
  layer?: string | number;
  target?: number | 'auto';
  /** The method's options (GET /api/methods gives each method's schema); unknown keys are a 400. */
  options?: Record<string, unknown>;
  colormap?: ColormapName;
  alpha?: number;
}

export interface ExplainResponse {
  method: string;
  kind: OutputKind;
  /** The overlay (maps) or the attribution image (images), PNG, base64. */
  png: string;
  /** `values` as little-endian float32, base64: a map [H, W] in [0, 1] or an image [C, H, W]. */
  map: string;
  dims: number[];
  class: number | null;
  label: string | null;
  layer: string | null;
  /** Server compute time of the explanation (0 when served from the cache). */
  ms: number;
  cached: boolean;
  /** What the user should know about this result (e.g. a blank map and why). */
  warnings: string[];
}

/** Deletion and insertion curves of an explanation's map (POST /api/curves; Petsiuk et al. 2018). */
export interface CurvesResponse {
  method: string;
  class: number | null;
  /** Fraction of the pixels removed (deletion) or restored (insertion) at each point. */
  fractions: number[];
  /** Softmax probability of the class at each point. */
  deletion: number[];
  insertion: number[];
  /** Areas under the curves (deletion: lower is better; insertion: higher is better). */
  deletionAuc: number;
  insertionAuc: number;
  ms: number;
}

export interface ActivationChannel {
  channel: number;
  mean: number;
  /** The channel's map, normalized per map, viridis, PNG base64. */
  png: string;
}

export interface ActivationsResponse {
  layer: string;
  shape: number[];
  /** All shown channels tiled (torchvision make_grid layout), PNG base64. */
  grid: string;
  channels: ActivationChannel[];
  /** Channels in the layer (more than shown when `limit` cut them to the most active). */
  total: number;
  ms: number;
}

export interface StatusResponse {
  model: string | null;
  queue: { running: boolean; waiting: number; dropped: number; done: number };
  /** The explain running now: its method and the fraction of it done. */
  progress: { method: string; fraction: number } | null;
}
