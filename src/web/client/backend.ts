/**
 * What the explorer page talks to: one interface, two implementations. `http-backend.ts`
 * calls the `convlens serve` JSON API (see ../API.md); `worker-backend.ts` runs the same
 * workspace in a Web Worker on onnxruntime-web (the static site of `convlens site`).
 * Calls that take a signal are abandoned when it aborts (the page aborts a request when the
 * user asks for a newer one), and the server or worker stops or skips the work.
 */
import type { ActivationsResponse, CurvesResponse, ExplainRequest, ExplainResponse, ImageEntry, MethodEntry, ModelInfo, PredictResponse, SampleEntry } from '../api-types.ts';
import type { RgbImage } from '../../viz/image.ts';

export interface BackendStart {
  methods: MethodEntry[];
  samples: SampleEntry[];
  model: ModelInfo | null;
}

export interface ExplorerBackend {
  readonly mode: 'server' | 'static';
  /** Methods, samples and the model the page opens with. */
  start(): Promise<BackendStart>;
  /** Where the page runs the model, for the status line (e.g. 'in this browser: wasm, 2 threads'). */
  describe(): string;
  /** A thumbnail of a sample. */
  sampleUrl(name: string): string;
  uploadModel(file: File): Promise<ModelInfo>;
  uploadImage(file: File): Promise<ImageEntry>;
  /** The image as the model sees it (resized / cropped). */
  imageRgb(id: string, signal?: AbortSignal): Promise<RgbImage>;
  predict(image: string, k: number, signal?: AbortSignal): Promise<PredictResponse>;
  /** `onProgress` receives the fraction of the method done while it runs. */
  explain(req: ExplainRequest, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<ExplainResponse>;
  /** Deletion and insertion curves of the explanation `req` names. */
  curves(req: ExplainRequest, signal?: AbortSignal): Promise<CurvesResponse>;
  activations(image: string, layer: string, limit: number, signal?: AbortSignal): Promise<ActivationsResponse>;
  /** The structure diagram, SVG. */
  graph(): Promise<string>;
  /** A URL of a conv layer's kernels as a PNG grid. */
  filtersUrl(layer: string): Promise<string>;
}

/** A request the page abandoned because a newer one replaced it. */
export function isAbort(e: unknown): boolean {
  return (e as Error)?.name === 'AbortError';
}

export function abortError(): Error {
  return new DOMException('the request was replaced by a newer one', 'AbortError');
}
