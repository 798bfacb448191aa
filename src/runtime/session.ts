/**
 * A thin wrapper over onnxruntime sessions (onnxruntime-node by default, see ort.ts):
 * float32 tensors in and out, explicit release, and thread settings that let several
 * sessions share two cores without slowing each other down (no spinning idle threads).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { ortBackend, type OrtBackend } from './ort.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { serializeModel } from '../model/model.ts';
import type { TypedArray } from '../model/tensor-data.ts';
import { ConvlensError } from '../errors.ts';

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** Any tensor a session returns (shape tensors are int64, masks bool). */
export interface AnyTensor {
  type: string;
  data: TypedArray | Uint8Array;
  dims: number[];
}

export interface SessionOptions {
  /** Threads for one op; default: all cores. */
  intraOpThreads?: number;
  /** Let idle threads spin (faster for one session alone; default false). */
  spinning?: boolean;
  /** ORT graph optimization level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Node: a file where onnxruntime saves the graph as it optimized it (load it later with optimization 'disabled'). */
  saveOptimized?: string;
  /**
   * With saveOptimized: a file name (in the same folder) for the graph's weights, kept
   * outside the graph file; onnxruntime then loads them without parsing them as protobuf
   * (a session of ResNet-50 in 0.05 s rather than 0.2 s).
   */
  saveOptimizedWeights?: string;
}

/**
 * onnxruntime could not load or run a model. A ConvlensError: what fails is the user's
 * model (an op it cannot run, a shape it was not exported for), and the message says what.
 */
export class RuntimeError extends ConvlensError {
  override name = 'RuntimeError';
}

/** Called around every onnxruntime call (the CLI installs a time limit, see watchdog.ts). */
export interface RunGuard {
  arm(): void;
  disarm(): void;
}

let runGuard: RunGuard | undefined;

/** Install (or remove, with undefined) the guard around every session's runs. */
export function setRunGuard(guard: RunGuard | undefined): void {
  runGuard = guard;
}

/** ORT's message, one line, with the failing node named when ORT gives it. */
function ortMessage(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const line = firstLine(e);
  const node = /node(?:\s+name)?[:\s]+['"(]?([^'")\s,]+)/i.exec(text)?.[1];
  return node && !line.includes(node) ? `${line} (node '${node}')` : line;
}

export class Session {
  private released = false;
  private constructor(
    private readonly ort: OrtBackend,
    private readonly inner: InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  /** From a model, its bytes, or (Node) the path of an .onnx file. */
  static async create(model: ModelProto | Uint8Array | string, options: SessionOptions = {}): Promise<Session> {
    const source = typeof model === 'string' || model instanceof Uint8Array ? model : serializeModel(model);
    const ort = await ortBackend();
    runGuard?.arm();
    try {
      const settings: InferenceSession.SessionOptions = {
        graphOptimizationLevel: options.optimization ?? 'all',
        ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
        interOpNumThreads: 1,
        ...(options.saveOptimized ? { optimizedModelFilePath: options.saveOptimized } : {}),
        executionMode: 'sequential',
        // Without a memory pattern, the second run reuses the arena blocks of the first one
        // instead of allocating one more block of the planned peak size and faulting in its
        // pages (ResNet-50 at batch 8: about 14,600 fewer page faults, 20-30 ms less; later
        // runs take the same time either way).
        enableMemPattern: false,
        logSeverityLevel: 4,
        extra: {
          session: {
            intra_op: { allow_spinning: options.spinning ? '1' : '0' },
            inter_op: { allow_spinning: '0' },
            ...(options.saveOptimized && options.saveOptimizedWeights ? { optimized_model_external_initializers_file_name: options.saveOptimizedWeights, optimized_model_external_initializers_min_size_in_bytes: '1024' } : {}),
          },
        },
      };
      const inner = typeof source === 'string' ? await ort.InferenceSession.create(source, settings) : await ort.InferenceSession.create(source, settings);
      return new Session(ort, inner, inner.inputNames, inner.outputNames);
    } catch (e) {
      throw new RuntimeError(`onnxruntime could not load the model: ${ortMessage(e)}`);
    } finally {
      runGuard?.disarm();
    }
  }

  /** Run with float32 (or other typed) inputs; returns the requested outputs (default all). */
  async run(feeds: Record<string, Tensor | AnyTensor>, outputs?: readonly string[]): Promise<Record<string, AnyTensor>> {
    if (this.released) throw new RuntimeError('the session was released');
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const type = 'type' in t ? t.type : 'float32';
      ortFeeds[name] = new this.ort.Tensor(type as 'float32', t.data as Float32Array, t.dims);
    }
    let result: InferenceSession.ReturnType;
    runGuard?.arm();
    try {
      result = outputs ? await this.inner.run(ortFeeds, [...outputs]) : await this.inner.run(ortFeeds);
    } catch (e) {
      throw new RuntimeError(`onnxruntime failed to run the model: ${ortMessage(e)}`);
    } finally {
      runGuard?.disarm();
    }
    const out: Record<string, AnyTensor> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { type: t.type, data: t.data as TypedArray, dims: [...t.dims] };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.inner.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

export function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!.trim();
}

export function asFloat(t: AnyTensor | undefined, what: string): Tensor {
  if (!t) throw new RuntimeError(`missing output ${what}`);
  if (t.data instanceof Float32Array) return { data: t.data, dims: t.dims };
  if (t.data instanceof Float64Array) return { data: Float32Array.from(t.data), dims: t.dims };
  throw new RuntimeError(`output ${what} is ${t.type}, not float`);
}
