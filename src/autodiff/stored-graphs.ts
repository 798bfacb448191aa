/**
 * What the engine keeps in a CompiledStore (the disk cache) and how it comes back:
 *
 * - a compiled graph: as onnxruntime optimized it for this machine (what later sessions
 *   load), or as compiled for stores that cannot hold files, with its description;
 * - a specialized model (one input shape, shapes probed, shape-only values folded): its
 *   graph without the model's own weights, which are attached again by name from the
 *   model in memory, so an entry is a few kilobytes and reviving it costs no probe run.
 */
import type { ModelProto, TensorProto } from '../model/onnx-proto.ts';
import { parseModel, serializeModel } from '../model/model.ts';
import { GraphView } from '../model/graph-view.ts';
import { inferDtypes } from '../model/dtypes.ts';
import type { Specialized } from '../runtime/specialize.ts';
import type { CompiledGraph } from './compile.ts';

export interface StoreEntry {
  bytes: Uint8Array;
  info: unknown;
}

type StoredCompiled = Omit<CompiledGraph, 'model' | 'shapes'> & { shapes: [string, number[]][] };

export function storeCompiled(compiled: CompiledGraph, bytes: Uint8Array): StoreEntry {
  const { model: _model, shapes, ...rest } = compiled;
  return { bytes, info: { ...rest, shapes: [...shapes] } satisfies StoredCompiled };
}

/**
 * A compiled graph's description read back from a store, with its model parsed from
 * `bytes` if someone asks for it. An entry onnxruntime optimized has no ONNX form of the
 * compiled graph to give (exports compile their own).
 */
export function reviveCompiled(info: unknown, bytes?: Uint8Array): CompiledGraph {
  const stored = info as StoredCompiled;
  let model: ModelProto | undefined;
  const revived = { ...stored, shapes: new Map(stored.shapes) } as Omit<CompiledGraph, 'model'>;
  const parse = () => {
    if (!bytes) throw new Error('this compiled graph was loaded as onnxruntime optimized it and has no ONNX form here; compile it again without the cache (--no-cache)');
    return parseModel(bytes);
  };
  return Object.defineProperty(revived, 'model', { get: () => (model ??= parse()), enumerable: true }) as CompiledGraph;
}

interface StoredSpecialized {
  /** Initializer names in order; `own` marks those stored in the entry (the rest are the model's). */
  initializers: { name: string; own: boolean }[];
  shapes: [string, number[]][];
  inputShapes: Record<string, number[]>;
}

/** A specialized model as a store entry: the model's own weights (shared objects) are left out. */
export function storeSpecialized(model: ModelProto, s: Specialized): StoreEntry {
  const weights = new Set(model.graph?.initializer ?? []);
  const all = s.model.graph!.initializer ?? [];
  const initializers = all.map((t) => ({ name: t.name ?? '', own: !weights.has(t) }));
  s.model.graph!.initializer = all.filter((t) => !weights.has(t));
  try {
    const bytes = serializeModel(s.model);
    return { bytes, info: { initializers, shapes: [...s.shapes], inputShapes: s.inputShapes } satisfies StoredSpecialized };
  } finally {
    s.model.graph!.initializer = all;
  }
}

/** The specialized model of an entry, its weights taken from `model`; throws when they do not match. */
export function reviveSpecialized(model: ModelProto, entry: StoreEntry): Specialized {
  const stored = entry.info as StoredSpecialized;
  const m = parseModel(entry.bytes);
  const own = new Map((m.graph!.initializer ?? []).map((t) => [t.name ?? '', t]));
  const weights = new Map<string, TensorProto>();
  for (const t of model.graph?.initializer ?? []) if (!weights.has(t.name ?? '')) weights.set(t.name ?? '', t);
  m.graph!.initializer = stored.initializers.map(({ name, own: isOwn }) => {
    const t = isOwn ? own.get(name) : weights.get(name);
    if (!t) throw new Error(`stored specialization names initializer '${name}' that is missing`);
    return t;
  });
  const view = new GraphView(m.graph!);
  return { model: m, view, shapes: new Map(stored.shapes), dtypes: inferDtypes(view), inputShapes: stored.inputShapes };
}
