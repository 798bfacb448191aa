/** The explorer backend of `convlens serve`: typed fetch calls of the JSON API (see ../API.md). */
import type { ActivationsResponse, ApiError, CurvesResponse, ExplainRequest, ExplainResponse, ImageEntry, MethodEntry, ModelInfo, PredictResponse, SampleEntry, StatusResponse } from '../api-types.ts';
import type { RgbImage } from '../../viz/image.ts';
import type { ExplorerBackend } from './backend.ts';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function fetchOk(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, init);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({ error: res.statusText }))) as ApiError;
    throw new ApiRequestError(res.status, body.error);
  }
  return res;
}

const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => (await (await fetchOk(path, init)).json()) as T;

const post = <T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> =>
  call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

/** Pixels of a PNG exactly as stored (no color management), as RGB. */
async function fetchRgb(url: string, signal?: AbortSignal): Promise<RgbImage> {
  const res = await fetchOk(url, signal ? { signal } : {});
  const bitmap = await createImageBitmap(await res.blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const data = new Uint8ClampedArray(bitmap.width * bitmap.height * 3);
  for (let p = 0, q = 0; q < rgba.length; p += 3, q += 4) {
    data[p] = rgba[q]!;
    data[p + 1] = rgba[q + 1]!;
    data[p + 2] = rgba[q + 2]!;
  }
  return { width: bitmap.width, height: bitmap.height, data };
}

export const httpBackend: ExplorerBackend = {
  mode: 'server',
  start: async () => {
    const [methods, samples, model] = await Promise.all([call<MethodEntry[]>('/api/methods'), call<SampleEntry[]>('/api/samples'), call<ModelInfo | null>('/api/model')]);
    return { methods, samples, model };
  },
  describe: () => 'on the convlens server',
  sampleUrl: (name) => `/api/samples/${encodeURIComponent(name)}`,
  uploadModel: (file) => call<ModelInfo>(`/api/model?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: file }),
  uploadImage: (file) => call<ImageEntry>(`/api/images?name=${encodeURIComponent(file.name.replace(/\.[^.]*$/, ''))}`, { method: 'POST', body: file }),
  imageRgb: (id, signal) => fetchRgb(`/api/images/${encodeURIComponent(id)}`, signal),
  predict: (image, k, signal) => post<PredictResponse>('/api/predict', { image, k }, signal),
  explain: async (req: ExplainRequest, signal, onProgress) => {
    // The server reports the running explain's progress on /api/status: asked twice a second meanwhile.
    const poll = onProgress
      ? setInterval(() => {
          call<StatusResponse>('/api/status').then((s) => s.progress?.method === req.method && onProgress(s.progress.fraction), () => undefined);
        }, 500)
      : undefined;
    try {
      return await post<ExplainResponse>('/api/explain', req, signal);
    } finally {
      clearInterval(poll);
    }
  },
  curves: (req: ExplainRequest, signal) => post<CurvesResponse>('/api/curves', req, signal),
  activations: (image, layer, limit, signal) => post<ActivationsResponse>('/api/activations', { image, layer, limit }, signal),
  graph: async () => (await fetchOk('/api/graph')).text(),
  filtersUrl: async (layer) => `/api/filters?layer=${encodeURIComponent(layer)}`,
};
