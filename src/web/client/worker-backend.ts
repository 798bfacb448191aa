/**
 * The explorer backend of the static site: the workspace runs in a Web Worker
 * (../static/worker.ts) on onnxruntime-web, so a model and images never leave the machine.
 * `?ep=wasm` or `?ep=webgpu` in the page URL picks onnxruntime-web's execution provider
 * (default: WebGPU when the browser has an adapter, else wasm); `?threads=N` its wasm
 * threads (default: half the cores, at most 4, when the page is cross-origin isolated, else 1).
 */
import type { ExplainRequest } from '../api-types.ts';
import type { RuntimeInfo, WorkerCall, WorkerInit, WorkerOp, WorkerOps, WorkerProgress, WorkerReply } from '../static/protocol.ts';
import { abortError, type ExplorerBackend } from './backend.ts';

export interface WorkerBackend extends ExplorerBackend {
  /** How onnxruntime-web runs (known after start()). */
  runtime: RuntimeInfo | undefined;
  /** The worker's call counts (tests read them through window.__convlens). */
  status(): Promise<WorkerOps['status']['value']>;
}

export function createWorkerBackend(): WorkerBackend {
  const worker = new Worker(new URL('../static/worker.ts', import.meta.url), { type: 'module', name: 'convlens' });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (fraction: number) => void }>();
  let nextId = 1;
  worker.onmessage = (ev: MessageEvent<WorkerReply | WorkerProgress>) => {
    const r = ev.data;
    if ('progress' in r) return void pending.get(r.progress)?.onProgress?.(r.fraction);
    const p = pending.get(r.id);
    if (!p) return; // abandoned by the page
    pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(r.error.kind === 'cancelled' ? abortError() : new Error(r.error.message));
  };
  worker.onerror = (ev) => {
    const e = new Error(`the explorer's worker failed: ${ev.message || 'it could not start (is the site served over http://?)'}`);
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };

  function call<K extends WorkerOp>(op: K, args: WorkerOps[K]['args'], signal?: AbortSignal, transfer: Transferable[] = [], onProgress?: (fraction: number) => void): Promise<WorkerOps[K]['value']> {
    if (signal?.aborted) return Promise.reject(abortError());
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(onProgress ? { onProgress } : {}) });
      signal?.addEventListener('abort', () => {
        if (!pending.delete(id)) return;
        worker.postMessage({ cancel: id });
        reject(abortError());
      });
      worker.postMessage({ id, op, args } satisfies WorkerCall<K>, transfer);
    });
  }

  const sampleUrls = new Map<string, string>();
  let filtersUrl: string | undefined;
  const bytesOf = async (file: File) => new Uint8Array(await file.arrayBuffer());
  const query = new URLSearchParams(location.search);
  const ep = query.get('ep');
  const threads = Number(query.get('threads'));

  const backend: WorkerBackend = {
    mode: 'static',
    runtime: undefined,
    start: async () => {
      const init: WorkerInit = { base: new URL('./', location.href).href, ep: ep === 'wasm' || ep === 'webgpu' ? ep : 'auto', ...(Number.isInteger(threads) && threads > 0 ? { threads } : {}) };
      const started = await call('start', [init]);
      backend.runtime = started.runtime;
      for (const s of started.samples) sampleUrls.set(s.name, s.url);
      return { methods: started.methods, samples: started.samples.map(({ name, id }) => ({ name, id })), model: started.model };
    },
    describe: () => {
      const r = backend.runtime;
      return r ? `in this browser: ${r.ep}, ${r.threads} thread${r.threads === 1 ? '' : 's'}${r.crossOriginIsolated ? '' : ' (serve the site with COOP/COEP headers for threads)'}` : 'in this browser';
    },
    sampleUrl: (name) => sampleUrls.get(name) ?? '',
    uploadModel: async (file) => {
      const bytes = await bytesOf(file);
      return call('loadModel', [bytes, { name: file.name }], undefined, [bytes.buffer]);
    },
    uploadImage: async (file) => {
      const bytes = await bytesOf(file);
      return call('addImage', [bytes, file.name.replace(/\.[^.]*$/, '')], undefined, [bytes.buffer]);
    },
    imageRgb: (id, signal) => call('imageRgb', [id], signal),
    predict: (image, k, signal) => call('predict', [image, k], signal),
    explain: (req: ExplainRequest, signal, onProgress) => call('explain', [req], signal, [], onProgress),
    curves: (req: ExplainRequest, signal) => call('curves', [req], signal),
    activations: (image, layer, limit, signal) => call('activations', [image, layer, limit], signal),
    graph: () => call('graph', []),
    status: () => call('status', []),
    filtersUrl: async (layer) => {
      const png = await call('filters', [layer]);
      if (filtersUrl) URL.revokeObjectURL(filtersUrl);
      filtersUrl = URL.createObjectURL(new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
      return filtersUrl;
    },
  };
  return backend;
}
