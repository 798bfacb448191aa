/** The browser's side of the explorer API (see ../API.md): typed fetch wrappers. */
import type {
  ActivationsResponse,
  ApiError,
  ExplainRequest,
  ExplainResponse,
  ImageEntry,
  MethodEntry,
  ModelInfo,
  PredictResponse,
  SampleEntry,
} from '../api-types.ts';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, init);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({ error: res.statusText }))) as ApiError;
    throw new ApiRequestError(res.status, body.error);
  }
  return (await res.json()) as T;
}

const post = <T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> =>
  call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

export const api = {
  methods: () => call<MethodEntry[]>('/api/methods'),
  model: () => call<ModelInfo>('/api/model'),
  uploadModel: (file: File) => call<ModelInfo>(`/api/model?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: file }),
  samples: () => call<SampleEntry[]>('/api/samples'),
  uploadImage: (file: File) => call<ImageEntry>(`/api/images?name=${encodeURIComponent(file.name.replace(/\.[^.]*$/, ''))}`, { method: 'POST', body: file }),
  imageUrl: (id: string) => `/api/images/${encodeURIComponent(id)}`,
  sampleUrl: (name: string) => `/api/samples/${encodeURIComponent(name)}`,
  predict: (image: string, k = 5) => post<PredictResponse>('/api/predict', { image, k }),
  explain: (req: ExplainRequest, signal?: AbortSignal) => post<ExplainResponse>('/api/explain', req, signal),
  activations: (image: string, layer: string, limit = 64) => post<ActivationsResponse>('/api/activations', { image, layer, limit }),
  graph: async (): Promise<string> => {
    const res = await fetch('/api/graph');
    if (!res.ok) throw new ApiRequestError(res.status, ((await res.json()) as ApiError).error);
    return res.text();
  },
  filtersUrl: (layer: string) => `/api/filters?layer=${encodeURIComponent(layer)}`,
};
