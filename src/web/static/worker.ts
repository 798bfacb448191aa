/**
 * The static explorer's engine: a Web Worker holding a WorkspaceCore on onnxruntime-web,
 * so model parsing, compilation and every onnxruntime run stay off the page's thread and
 * nothing leaves the machine. onnxruntime-web is loaded from the site's own `ort/` folder
 * (no CDN): wasm, multi-threaded when the page is cross-origin isolated (COOP/COEP), on
 * WebGPU when the browser offers an adapter. Protocol: protocol.ts.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { ConvlensError } from '../../errors.ts';
import { setOrtBackend, type OrtBackend } from '../../runtime/ort.ts';
import { CancelledError } from '../../methods/context.ts';
import { methodEntries } from '../method-entries.ts';
import { throttledProgress, WorkspaceCore } from '../workspace-core.ts';
import { browserPlatform } from './browser-platform.ts';
import type { RuntimeInfo, SiteManifest, StartResponse, WorkerCall, WorkerCancel, WorkerInit, WorkerOp, WorkerOps, WorkerProgress, WorkerReply } from './protocol.ts';

const workspace = new WorkspaceCore(browserPlatform);

async function loadOrt(init: WorkerInit): Promise<RuntimeInfo> {
  const ort = (await import(/* @vite-ignore */ new URL('ort/ort.min.mjs', init.base).href)) as typeof OrtWeb;
  const isolated = self.crossOriginIsolated;
  // onnxruntime-web's own default: half the cores, at most 4 (the other half keeps the page
  // and the rest of the machine responsive; on a busy 2-core machine 2 threads ran ResNet-50
  // at half the speed of 1, see BENCHMARKS.md).
  const threads = isolated ? (init.threads ?? Math.max(1, Math.min(4, Math.ceil((navigator.hardwareConcurrency || 1) / 2)))) : 1;
  ort.env.wasm.wasmPaths = new URL('ort/', init.base).href;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const webgpu = init.ep === 'webgpu' || (init.ep === 'auto' && gpu !== undefined && (await gpu.requestAdapter().catch(() => null)) !== null);
  const executionProviders = webgpu ? ['webgpu', 'wasm'] : ['wasm'];
  // Every session the library creates runs on the chosen execution providers; a graph that
  // WebGPU cannot take falls back to wasm.
  const InferenceSession = {
    create: async (model: Uint8Array, options: OrtWeb.InferenceSession.SessionOptions = {}) => {
      try {
        return await ort.InferenceSession.create(model, { ...options, executionProviders });
      } catch (e) {
        if (!webgpu) throw e;
        return ort.InferenceSession.create(model, { ...options, executionProviders: ['wasm'] });
      }
    },
  };
  setOrtBackend({ Tensor: ort.Tensor, InferenceSession } as unknown as OrtBackend);
  return { ep: webgpu ? 'webgpu' : 'wasm', threads, crossOriginIsolated: isolated };
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new ConvlensError(`${url.pathname} could not be loaded (HTTP ${res.status}): rebuild the site with convlens site`);
  return new Uint8Array(await res.arrayBuffer());
}

async function start(init: WorkerInit): Promise<StartResponse> {
  const runtime = await loadOrt(init);
  const bundled = new URL('bundled/', init.base);
  const res = await fetch(new URL('manifest.json', bundled));
  const manifest: SiteManifest = res.ok ? ((await res.json()) as SiteManifest) : { model: null, samples: [] };
  let model = null;
  if (manifest.model) model = await workspace.loadModel(await fetchBytes(new URL(manifest.model.file, bundled)), manifest.model.settings);
  const samples: StartResponse['samples'] = [];
  for (const s of manifest.samples) {
    const url = new URL(s.file, bundled);
    const entry = await workspace.addImage(await fetchBytes(url), s.name, true);
    samples.push({ name: s.name, id: entry.id, url: url.href });
  }
  return { runtime, methods: methodEntries(), samples, model };
}

type Handlers = { [K in WorkerOp]: (signal: AbortSignal, ...args: WorkerOps[K]['args']) => Promise<WorkerOps[K]['value']> | WorkerOps[K]['value'] };

const handlers: Handlers = {
  start: (_signal, init) => start(init),
  loadModel: (_signal, bytes, settings) => workspace.loadModel(bytes, settings),
  addImage: (_signal, bytes, name) => workspace.addImage(bytes, name),
  imageRgb: (_signal, id) => workspace.imageRgb(id),
  predict: (_signal, id, k) => workspace.predict(id, k),
  explain: (signal, req) => workspace.explain({ ...req, colormap: req.colormap ?? 'jet', alpha: req.alpha ?? 0.5 }, signal, progressOf(running)),
  curves: (signal, req) => workspace.curves(req, signal),
  activations: (_signal, id, layer, limit) => workspace.activations(id, layer, limit),
  graph: () => workspace.graph(),
  filters: (_signal, layer) => workspace.filters(layer),
  status: () => ({ ...counts }),
};

/** Calls answered, dropped before they started, and stopped while running (cancelled). */
const counts = { done: 0, dropped: 0, stopped: 0 };

const queue: { call: WorkerCall; abort: AbortController }[] = [];
let busy = false;
/** The id of the call running now. */
let running = 0;

/** Progress of call `id`, to the page. */
const progressOf = (id: number) => throttledProgress((fraction) => self.postMessage({ progress: id, fraction } satisfies WorkerProgress));

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length > 0) {
    const { call, abort } = queue[0]!;
    let started = false;
    try {
      if (abort.signal.aborted) {
        counts.dropped++;
        throw new CancelledError('the request was replaced by a newer one');
      }
      started = true;
      running = call.id;
      const handler = handlers[call.op] as (signal: AbortSignal, ...args: unknown[]) => unknown;
      const value = await handler(abort.signal, ...call.args);
      counts.done++;
      reply({ id: call.id, ok: true, value });
    } catch (e) {
      const kind = e instanceof CancelledError ? 'cancelled' : e instanceof ConvlensError ? 'user' : 'internal';
      if (kind === 'cancelled' && started) counts.stopped++;
      reply({ id: call.id, ok: false, error: { kind, message: (e as Error)?.message ?? String(e) } });
    }
    queue.shift();
  }
  busy = false;
}

self.onmessage = (ev: MessageEvent<WorkerCall | WorkerCancel>) => {
  const message = ev.data;
  if ('cancel' in message) {
    queue.find((q) => q.call.id === message.cancel)?.abort.abort();
    return;
  }
  queue.push({ call: message, abort: new AbortController() });
  void drain();
};
