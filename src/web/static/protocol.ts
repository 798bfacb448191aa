/**
 * Messages between the static explorer's page and its Web Worker (worker.ts). The page
 * sends {id, op, args}; the worker answers {id, ok, value | error}, one call at a time in
 * arrival order. {cancel: id} drops a call that has not started and stops a running
 * explain between onnxruntime runs (a newer request from the page replaced it). While an
 * explain runs, the worker sends {progress: id, fraction} as its method advances.
 */
import type { ActivationsResponse, CurvesResponse, ExplainRequest, ExplainResponse, ImageEntry, MethodEntry, ModelInfo, PredictResponse, SampleEntry } from '../api-types.ts';
import type { ModelSettings } from '../workspace-core.ts';
import type { RgbImage } from '../../viz/image.ts';

/** What `convlens site` writes to bundled/manifest.json: the model the page opens with and its samples (paths relative to bundled/). */
export interface SiteManifest {
  model: { file: string; settings: ModelSettings } | null;
  samples: { name: string; file: string }[];
}

/** Where the site's files are and how onnxruntime-web should run. */
export interface WorkerInit {
  /** The site's root URL (index.html's folder): `ort/` and `bundled/` are under it. */
  base: string;
  /** Execution provider: 'auto' = WebGPU when the browser has an adapter, else wasm. */
  ep: 'auto' | 'wasm' | 'webgpu';
  /** onnxruntime-web's wasm threads (default: half the cores, at most 4, when cross-origin isolated, else 1). */
  threads?: number;
}

/** How onnxruntime-web ended up running (shown in the page, read by tests and benches). */
export interface RuntimeInfo {
  ep: 'wasm' | 'webgpu';
  threads: number;
  crossOriginIsolated: boolean;
}

export interface StartResponse {
  runtime: RuntimeInfo;
  methods: MethodEntry[];
  samples: (SampleEntry & { url: string })[];
  model: ModelInfo | null;
}

/** Every call: its arguments and its answer. */
export interface WorkerOps {
  start: { args: [WorkerInit]; value: StartResponse };
  loadModel: { args: [Uint8Array, ModelSettings]; value: ModelInfo };
  addImage: { args: [Uint8Array, string]; value: ImageEntry };
  imageRgb: { args: [string]; value: RgbImage };
  predict: { args: [string, number]; value: PredictResponse };
  explain: { args: [ExplainRequest]; value: ExplainResponse };
  curves: { args: [ExplainRequest]; value: CurvesResponse };
  activations: { args: [string, string, number]; value: ActivationsResponse };
  graph: { args: []; value: string };
  filters: { args: [string]; value: Uint8Array };
  /** Calls answered, dropped before they started (a newer request replaced them), stopped while running. */
  status: { args: []; value: { done: number; dropped: number; stopped: number } };
}
export type WorkerOp = keyof WorkerOps;

export interface WorkerCall<K extends WorkerOp = WorkerOp> {
  id: number;
  op: K;
  args: WorkerOps[K]['args'];
}
export interface WorkerCancel {
  cancel: number;
}
/** How far the explain of call `progress` is (0..1). */
export interface WorkerProgress {
  progress: number;
  fraction: number;
}
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { kind: 'cancelled' | 'user' | 'internal'; message: string } };
