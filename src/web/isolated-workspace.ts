/**
 * The explorer's Workspace, run in a child process (workspace-host.ts) with a time budget
 * per call. A call that runs past its budget kills the child (onnxruntime cannot be
 * interrupted from inside: a model with a Loop of 1e9 iterations would never return); the
 * next call starts a fresh child and replays what the user had given (model, labels,
 * images), so image ids stay valid across restarts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { ConvlensError } from '../errors.ts';
import type { ExplainArgs } from './workspace-core.ts';
import type { ActivationsResponse, CurvesResponse, ExplainResponse, ImageEntry, ModelInfo, PredictResponse } from './api-types.ts';
import type { HostCall, HostCancel, HostProgress, HostReply, WorkspaceOp } from './workspace-host.ts';
import { CancelledError } from '../methods/context.ts';
import { NotFoundError, type ModelSettings } from './workspace.ts';
import type { ColormapName } from '../viz/colormaps.ts';
import { ownModule } from '../package-files.ts';

/** A model evaluation ran past the time budget and was stopped (HTTP 503). */
export class TimeBudgetError extends Error {
  override name = 'TimeBudgetError';
}

/** The worker stopped without answering (a crash or out of memory; HTTP 500). */
export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
}

export const defaultTimeBudgetMs = 120_000;
/** The same cap as Workspace's: the oldest uploaded image is forgotten beyond it. */
const MAX_UPLOADED_IMAGES = 200;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  op: WorkspaceOp;
  /** An explain's method and how far it is. */
  progress?: { method: string; fraction: number };
}

interface Journal {
  model: { bytes: Uint8Array; settings: ModelSettings } | undefined;
  labels: string[] | undefined;
  /** By the id given to the client; `childId` is the id in the current child. */
  images: Map<string, { name: string; bytes: Uint8Array; sample: boolean; childId: string }>;
}

const hostFile = ownModule('web/workspace-host');

export class IsolatedWorkspace {
  /** The child ready for calls. */
  private child: ChildProcess | undefined;
  /** The current child process, also while it starts. */
  private proc: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private info: ModelInfo | undefined;
  private readonly journal: Journal = { model: undefined, labels: undefined, images: new Map() };
  private closed = false;
  /** Children started so far (1 + restarts). */
  starts = 0;

  constructor(readonly timeBudgetMs = defaultTimeBudgetMs) {}

  get current(): ModelInfo | undefined {
    return this.info;
  }

  /** The running explain's method and the fraction of it done, if one runs. */
  get progress(): { method: string; fraction: number } | undefined {
    for (const p of this.pending.values()) if (p.progress) return { ...p.progress };
    return undefined;
  }

  async loadModel(bytes: Uint8Array, settings: ModelSettings): Promise<ModelInfo> {
    const info = (await this.call('loadModel', [bytes, settings])) as ModelInfo;
    this.journal.model = { bytes, settings };
    this.journal.labels = undefined;
    this.info = info;
    return info;
  }

  async setLabels(labels: string[]): Promise<ModelInfo> {
    const info = (await this.call('setLabels', [labels])) as ModelInfo;
    this.journal.labels = labels;
    this.info = info;
    return info;
  }

  async addImage(bytes: Uint8Array, name: string, sample = false): Promise<ImageEntry> {
    const entry = (await this.call('addImage', [bytes, name, sample])) as ImageEntry;
    this.journal.images.set(entry.id, { name, bytes, sample, childId: entry.id });
    const uploaded = [...this.journal.images].filter(([, i]) => !i.sample);
    if (uploaded.length > MAX_UPLOADED_IMAGES) this.journal.images.delete(uploaded[0]![0]);
    return entry;
  }

  async imagePng(id: string): Promise<Uint8Array> {
    return new Uint8Array((await this.call('imagePng', () => [this.childImage(id)])) as Uint8Array);
  }

  async predict(id: string, k: number): Promise<PredictResponse> {
    return { ...((await this.call('predict', () => [this.childImage(id), k])) as PredictResponse), image: id };
  }

  /** `signal` aborts the run in the worker between onnxruntime runs (CancelledError). */
  async explain(req: { image: string; method: string; layer?: string | number; target?: number | 'auto'; options?: Record<string, unknown>; colormap: ColormapName; alpha: number }, signal?: AbortSignal): Promise<ExplainResponse> {
    return (await this.call('explain', () => [{ ...req, image: this.childImage(req.image) }], signal)) as ExplainResponse;
  }

  /** Deletion and insertion curves of an explanation (stopped like explain by `signal`). */
  async curves(req: ExplainArgs, signal?: AbortSignal): Promise<CurvesResponse> {
    return (await this.call('curves', () => [{ ...req, image: this.childImage(req.image) }], signal)) as CurvesResponse;
  }

  async activations(id: string, ref: string | number, limit: number): Promise<ActivationsResponse> {
    return (await this.call('activations', () => [this.childImage(id), ref, limit])) as ActivationsResponse;
  }

  async graph(): Promise<string> {
    return (await this.call('graph', [])) as string;
  }

  async filters(layer: string): Promise<Uint8Array> {
    return new Uint8Array((await this.call('filters', [layer])) as Uint8Array);
  }

  async release(): Promise<void> {
    this.closed = true;
    this.kill(new ConvlensError('the server is shutting down'));
  }

  private childImage(id: string): string {
    return this.journal.images.get(id)?.childId ?? id;
  }

  /** `args` as a function when it names images: their ids in the child are known once it is ready (after a replay). */
  private call(op: WorkspaceOp, args: unknown[] | (() => unknown[]), signal?: AbortSignal): Promise<unknown> {
    return this.ready().then((child) => this.send(child, op, typeof args === 'function' ? args() : args, signal));
  }

  private send(child: ChildProcess, op: WorkspaceOp, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    const id = this.nextId++;
    if (signal?.aborted) return Promise.reject(new CancelledError('the request was cancelled'));
    signal?.addEventListener('abort', () => this.pending.has(id) && child.connected && child.send({ cancel: id } satisfies HostCancel), { once: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.kill(new TimeBudgetError('the request was stopped: another request ran past the time budget and the model worker was restarted; send it again'));
        reject(new TimeBudgetError(`'${op}' did not finish within the time budget of ${this.timeBudgetMs / 1000} s and was stopped (a model with long loops, or too slow a method for this machine); the model worker was restarted: try a faster method or raise the budget (convlens serve --time-limit SECONDS)`));
      }, this.timeBudgetMs);
      const method = op === 'explain' ? (args[0] as { method?: string } | undefined)?.method : undefined;
      this.pending.set(id, { resolve, reject, timer, op, ...(method ? { progress: { method, fraction: 0 } } : {}) });
      child.send({ id, op, args } satisfies HostCall);
    });
  }

  /** The running child, or a new one with the journal replayed into it. */
  private ready(): Promise<ChildProcess> {
    if (this.closed) return Promise.reject(new ConvlensError('the server is shutting down'));
    if (this.child) return Promise.resolve(this.child);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<ChildProcess> {
    const execArgv = hostFile.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
    const child = fork(hostFile, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.starts++;
    this.proc = child;
    child.on('message', (reply: HostReply | HostProgress) => {
      if ('progress' in reply) {
        const p = this.pending.get(reply.progress)?.progress;
        if (p) p.fraction = reply.fraction;
      } else this.answer(reply);
    });
    child.on('exit', (code, signal) => {
      if (this.proc !== child) return; // killed on purpose: its calls were answered already
      this.proc = undefined;
      this.child = undefined;
      this.failAll(new WorkerCrashError(`the model worker stopped unexpectedly (${signal ?? `exit code ${code}`}); it restarts with the next request`));
    });
    // Replay: the model, its labels, the images (ids given to the client map to new ones).
    const { model, labels, images } = this.journal;
    if (model) await this.send(child, 'loadModel', [model.bytes, model.settings]);
    if (labels) await this.send(child, 'setLabels', [labels]);
    for (const image of images.values()) {
      image.childId = ((await this.send(child, 'addImage', [image.bytes, image.name, image.sample])) as ImageEntry).id;
    }
    this.child = child;
    return child;
  }

  private answer(reply: HostReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) return p.resolve(reply.value);
    const { kind, message, stack } = reply.error;
    const error = kind === 'not-found' ? new NotFoundError(message) : kind === 'cancelled' ? new CancelledError(message) : kind === 'user' ? new ConvlensError(message) : new Error(message);
    if (stack) error.stack = stack;
    p.reject(error);
  }

  private failAll(error: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(error);
    }
  }

  private kill(error: Error): void {
    const child = this.proc;
    this.child = undefined;
    this.proc = undefined;
    this.failAll(error);
    child?.kill('SIGKILL');
  }
}
