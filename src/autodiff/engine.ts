/**
 * The gradient engine: one model, compiled on demand per input shape and compile spec,
 * with the compiled sessions cached and released together. Methods run everything through
 * it: forward passes, activations and gradients under any rule set.
 */
import type { ModelProto } from '../model/onnx-proto.ts';
import { serializeModel } from '../model/model.ts';
import { reviveCompiled, reviveSpecialized, storeCompiled, storeSpecialized, type StoreEntry } from './stored-graphs.ts';
import { asFloat, type SessionOptions, type Tensor } from '../runtime/session.ts';
import { SessionCache, type SessionBuild } from '../runtime/cache.ts';
import type { Specialized } from '../runtime/specialize.ts';
import { compileSpecialized, specializeFor, type CompiledGraph, type CompileSpec } from './compile.ts';
import type { RuleSetName } from './rulesets.ts';
import type { RuleTable } from './rule.ts';

export interface EngineRequest {
  /** Tensors to differentiate with respect to. */
  wrt?: readonly string[];
  /** Inner tensors to return. */
  expose?: readonly string[];
  /** A named rule set, or a table (compiled graphs are cached per table object). */
  rules?: RuleSetName | RuleTable;
  /** What flows back from the target (see CompileSpec.seed). */
  seed?: 'weight' | 'weighted-target';
  output?: string;
  targetTensor?: string;
  /** 'argmax': differentiate each image's predicted class, computed in the graph. */
  targetWeight?: 'input' | 'argmax';
  /** Inner tensors fed as inputs (pass them in `inputs` by name). */
  inject?: readonly string[];
}

export interface EngineResult {
  outputs: Record<string, Tensor>;
  exposed: Record<string, Tensor>;
  gradients: Record<string, Tensor>;
  compiled: CompiledGraph;
}

/**
 * Where compiled graphs and specializations outlive the process (Node: runtime/disk-cache.ts
 * bound to the model's content hash; entries: stored-graphs.ts). Keys are compile keys (with
 * ` onnxruntime-optimized` for graphs as onnxruntime optimized them) and `specialized
 * <shape>`; graphs of rule tables are not stored (a table has no name that is stable across
 * processes).
 */
export interface CompiledStore {
  read(key: string): StoreEntry | undefined;
  write(key: string, entry: StoreEntry): void;
  /**
   * Where onnxruntime may save its optimized form of a graph (`path`, and `weights`: a file
   * name beside it for the weights), and `commit` to keep it as the entry `key` with `info`;
   * none when the store cannot hold files.
   */
  optimizedTarget?(key: string, info: unknown): { path: string; weights?: string; commit(): void } | undefined;
  /** An entry's file and description, for onnxruntime to read the file itself (no copy through JavaScript). */
  locate?(key: string): { path: string; info: unknown } | undefined;
}

export class GradientEngine {
  private readonly specialized = new Map<string, Promise<Specialized>>();
  private readonly sessions: SessionCache<CompiledGraph>;
  /** How many specializations and compiles this engine has done (tests count them). */
  readonly counts = { specializations: 0, compilations: 0 };

  constructor(
    readonly model: ModelProto,
    options: SessionOptions & { capacity?: number; store?: CompiledStore } = {},
  ) {
    this.sessions = new SessionCache(options, options.capacity ?? 8);
    this.store = options.store;
  }

  private readonly store: CompiledStore | undefined;

  /** The model specialized to an input shape (cached). */
  specialize(inputShape: number[] | Record<string, number[]>): Promise<Specialized> {
    const key = JSON.stringify(inputShape);
    let s = this.specialized.get(key);
    if (!s) {
      s = this.specializeOrRead(inputShape);
      this.specialized.set(key, s);
      s.catch(() => this.specialized.delete(key));
    }
    return s;
  }

  /** The specialization from the store, else a probe run (stored for the next process). */
  private async specializeOrRead(inputShape: number[] | Record<string, number[]>): Promise<Specialized> {
    const key = `specialized ${JSON.stringify(inputShape)}`;
    const hit = this.store?.read(key);
    if (hit) {
      try {
        return reviveSpecialized(this.model, hit);
      } catch {
        // an entry that does not fit this model is a miss
      }
    }
    this.counts.specializations++;
    const s = await specializeFor(this.model, { inputShape });
    this.store?.write(key, storeSpecialized(this.model, s));
    return s;
  }

  /**
   * Compile (or reuse) the graph for this shape and request. A store that can hold files
   * keeps the graph as onnxruntime optimized it for this machine, which later sessions load
   * without compiling or optimizing again (a third of a second for ResNet-50); other stores
   * keep the compiled graph.
   */
  async compiled(inputShape: number[] | Record<string, number[]>, request: EngineRequest) {
    const key = compileKey(inputShape, request);
    return this.sessions.get(key, async () => {
      const store = typeof request.rules === 'object' ? undefined : this.store;
      const optimizedKey = `${key} onnxruntime-optimized`;
      const build = () => this.build(key, inputShape, request, store, optimizedKey);
      // A stored graph onnxruntime cannot load (damaged, another version, evicted meanwhile) is built again.
      if (store?.optimizedTarget) {
        const fast = store.locate ? store.locate(optimizedKey) : store.read(optimizedKey);
        if (fast) return { model: 'path' in fast ? fast.path : fast.bytes, info: reviveCompiled(fast.info), options: { optimization: 'disabled' as const }, retry: build };
      } else {
        const hit = store?.read(key);
        if (hit) return { model: hit.bytes, info: reviveCompiled(hit.info, hit.bytes), retry: build };
      }
      return build();
    });
  }

  private async build(key: string, inputShape: number[] | Record<string, number[]>, request: EngineRequest, store: CompiledStore | undefined, optimizedKey: string): Promise<SessionBuild<CompiledGraph>> {
    this.counts.compilations++;
    const s = await this.specialize(inputShape);
    const compiled = compileSpecialized(s, { inputShape, ...definedOnly(request) });
    if (!store) return { model: compiled.model, info: compiled };
    const entry = storeCompiled(compiled, serializeModel(compiled.model));
    const built = { model: entry.bytes, info: compiled };
    const target = store.optimizedTarget?.(optimizedKey, entry.info);
    if (!target) {
      store.write(key, entry);
      return built;
    }
    // If onnxruntime cannot save its optimized graph (too large for one file), the session is made without.
    return { ...built, options: { saveOptimized: target.path, ...(target.weights ? { saveOptimizedWeights: target.weights } : {}) }, created: target.commit, retry: async () => built };
  }

  /** Whether the graph for this shape (injected inputs left out) and request is compiled. */
  isCompiled(inputShape: number[] | Record<string, number[]>, request: EngineRequest): boolean {
    return this.sessions.has(compileKey(feedShapes(inputShape, request), request));
  }

  /**
   * Run once. `inputs` by name (a single tensor feeds the only input); `weights` has the
   * target tensor's shape and is needed when `wrt` is not empty (unless targetWeight is
   * 'argmax').
   */
  async run(inputs: Tensor | Record<string, Tensor>, request: EngineRequest = {}, weights?: Tensor): Promise<EngineResult> {
    const single = 'data' in inputs && 'dims' in inputs;
    const shapes = feedShapes(single ? (inputs as Tensor).dims : Object.fromEntries(Object.entries(inputs as Record<string, Tensor>).map(([k, v]) => [k, v.dims])), request);
    const { session, info } = await this.compiled(shapes, request);
    const given: Record<string, Tensor> = single ? { [Object.keys(info.inputShapes)[0]!]: inputs as Tensor } : { ...(inputs as Record<string, Tensor>) };
    // Inputs that injection made unused are not fed.
    const feeds = Object.fromEntries(Object.entries(given).filter(([k]) => session.inputNames.includes(k)));
    if (info.targetWeight) {
      if (!weights) throw new Error('target weights are needed to compute gradients');
      feeds[info.targetWeight] = weights;
    }
    const out = await session.run(feeds);
    const pick = (names: Record<string, string>) => Object.fromEntries(Object.entries(names).map(([k, v]) => [k, asFloat(out[v], v)]));
    return {
      outputs: Object.fromEntries(info.outputs.map((o) => [o, asFloat(out[o], o)])),
      exposed: pick(info.exposed),
      gradients: pick(info.gradients),
      compiled: info,
    };
  }

  async release(): Promise<void> {
    this.specialized.clear();
    await this.sessions.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

function compileKey(inputShape: number[] | Record<string, number[]>, request: EngineRequest): string {
  return JSON.stringify([inputShape, request.wrt ?? [], request.expose ?? [], ruleKey(request.rules), request.seed ?? 'weight', request.output ?? '', request.targetTensor ?? '', request.targetWeight ?? 'input', request.inject ?? []]);
}

/** The shapes that select a compiled graph: injected inner tensors are not model inputs. */
function feedShapes(shapes: number[] | Record<string, number[]>, request: EngineRequest): number[] | Record<string, number[]> {
  if (Array.isArray(shapes)) return shapes;
  const injected = new Set(request.inject ?? []);
  return Object.fromEntries(Object.entries(shapes).filter(([k]) => !injected.has(k)));
}

/** Rule tables have no name: each table object gets a number for the cache key. */
const tableIds = new WeakMap<RuleTable, number>();
let nextTableId = 0;
function ruleKey(rules: RuleSetName | RuleTable | undefined): string {
  if (typeof rules !== 'object') return rules ?? 'gradient';
  let id = tableIds.get(rules);
  if (id === undefined) tableIds.set(rules, (id = nextTableId++));
  return `table ${id}`;
}

function definedOnly(r: EngineRequest): Omit<CompileSpec, 'inputShape'> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Omit<CompileSpec, 'inputShape'>;
}
