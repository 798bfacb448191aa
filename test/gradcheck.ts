/**
 * Finite-difference gradient check of the compiled backward graphs (a helper module for
 * the tests, not a test file itself).
 *
 * A case describes a tiny model (usually one node) by its tensors and nodes. gradCheck
 * builds it, compiles it with wrt = every tensor the case marks differentiable and, for
 * a few seeded random directions v, compares the compiled directional derivative
 * <grad f(x), v> with the central difference (f(x + h v) - f(x - h v)) / 2h, where
 * f(x) = sum(w * y) for a random fixed weight w on the target y (the compiled graph's
 * target_weight input). The forward outputs are outputs of the compiled graph too, so the
 * same session evaluates f.
 *
 * Precision: each case is built in float64 first (h = 1e-6, relative error < 1e-6); when
 * onnxruntime has no double kernel for the op or for something its rule emits, the float64
 * attempt is reported as unavailable (`float64Unavailable`). Any other failure of the double
 * build (e.g. a rule emitting a float constant into a double graph) is a failure unless
 * `strictFloat64: false`. The float32 build (h = 1e-2, relative error < 2e-2) is always run
 * as well: real models are float32, so every op a rule emits must run in float32.
 * Relative error = |a - b| / max(|a|, |b|, 1e-3).
 */
import { Rng } from '../src/runtime/rng.ts';
import { compile, type CompiledGraph, type CompileSpec } from '../src/autodiff/compile.ts';
import type { RuleSetName } from '../src/autodiff/rulesets.ts';
import type { RuleTable } from '../src/autodiff/rule.ts';
import { makeAttribute, type AttrInput } from '../src/model/attributes.ts';
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../src/model/onnx-proto.ts';
import { DataType, elementCount, makeTensorProto, type TypedArray } from '../src/model/tensor-data.ts';
import { Session, type AnyTensor } from '../src/runtime/session.ts';

// ---------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------

/** Uniform draws in [0, 1) from the project's seeded generator. */
function uniforms(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.uniform();
}

/** FNV-1a hash of a string: a stable per-case seed. */
export function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** How a float tensor's values are drawn. */
export type Gen =
  /** Uniform in [lo, hi). */
  | { kind: 'uniform'; lo: number; hi: number }
  /** Uniform in [lo, hi) but at least `margin` (default 0.1) away from each kink point. */
  | { kind: 'away'; lo: number; hi: number; from: readonly number[]; margin?: number }
  /**
   * A random permutation of lo, lo + spacing, lo + 2 spacing, ...: tie-free values for
   * max pooling and ReduceMax (spacing default 0.05; lo default centres them on 0).
   */
  | { kind: 'distinct'; lo?: number; spacing?: number }
  /** Fixed values. */
  | { kind: 'values'; values: readonly number[] };

export function generate(gen: Gen, n: number, rand: () => number): number[] {
  switch (gen.kind) {
    case 'uniform':
      return Array.from({ length: n }, () => gen.lo + (gen.hi - gen.lo) * rand());
    case 'away': {
      const margin = gen.margin ?? 0.1;
      const out: number[] = [];
      for (let tries = 0; out.length < n; tries++) {
        if (tries > 1000 * (n + 1)) throw new Error(`cannot draw values in [${gen.lo}, ${gen.hi}) away from ${gen.from.join(', ')}`);
        const v = gen.lo + (gen.hi - gen.lo) * rand();
        if (gen.from.every((k) => Math.abs(v - k) >= margin)) out.push(v);
      }
      return out;
    }
    case 'distinct': {
      const spacing = gen.spacing ?? 0.05;
      const lo = gen.lo ?? -((n - 1) * spacing) / 2;
      const out = Array.from({ length: n }, (_, i) => lo + i * spacing);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    }
    case 'values':
      if (gen.values.length !== n) throw new Error(`${gen.values.length} values given for ${n} elements`);
      return [...gen.values];
  }
}

// ---------------------------------------------------------------------------------------
// Case description
// ---------------------------------------------------------------------------------------

export type FloatType = typeof DataType.FLOAT | typeof DataType.DOUBLE;
export type Precision = 'float32' | 'float64';

export interface TensorSpec {
  name: string;
  shape: readonly number[];
  /**
   * wrt (the default for float tensors): a graph input that is differentiated;
   * input: a graph input that is fed but not differentiated;
   * const: an initializer. int64 tensors are always initializers.
   */
  role?: 'wrt' | 'input' | 'const';
  /** 'float' (default) follows the precision of the build; int64 when `ints` is given. */
  type?: 'float' | 'float32' | 'float64' | 'int64';
  /** Float values (default uniform in [-1, 1)). */
  gen?: Gen;
  /** int64 values. */
  ints?: readonly (number | bigint)[];
}

export type AttrMap = Record<string, AttrInput>;

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Attributes, or a function of the build's float element type (1 or 11). */
  attrs?: AttrMap | ((floatType: FloatType) => AttrMap);
}

export interface OpCase {
  name: string;
  tensors: readonly TensorSpec[];
  nodes: readonly NodeSpec[];
  /** The tensor y of f(x) = sum(w * y) (default: first output of the last node). */
  target?: string;
  /** Graph outputs (default: [target]). */
  outputs?: readonly string[];
  /**
   * convlens requires the batch (dim 0) of the inputs to come out of every output. For an
   * op that changes dim 0 (reductions over it, Flatten axis 0, ...), `unbatched` wraps the
   * case: each fed input gets a leading dim of 1 that a Squeeze removes before the nodes,
   * and an Unsqueeze puts it back on the target.
   */
  unbatched?: boolean;
  /** 'float32' skips the float64 build (e.g. for a Cast whose types are the point). */
  precision?: 'auto' | 'float32';
  /** Step sizes and tolerances, to override the defaults of GradCheckOptions. */
  h32?: number;
  h64?: number;
  tol32?: number;
  tol64?: number;
}

export interface GradCheckOptions {
  /** Random directions per case (default 2). */
  directions?: number;
  /** Base seed, mixed with the case name (default 1). */
  seed?: number;
  /** Rule set (or a table, e.g. a deliberately broken one) to compile with (default 'gradient'). */
  rules?: RuleSetName | RuleTable;
  /** Which builds to run: float64 then float32 ('both', default), or only one. */
  precision?: 'both' | 'float32' | 'float64';
  /** Defaults: h = 1e-2 (float32) and 1e-6 (float64), scaled by each input's rms (clamped to [0.1, 1]). */
  h32?: number;
  h64?: number;
  /**
   * When the float64 build fails for a reason other than onnxruntime lacking a double
   * kernel (e.g. a rule emitted a float constant into a double graph), count it as a
   * failure (default true). Missing double kernels only fall back to float32.
   */
  strictFloat64?: boolean;
  /** Relative-error tolerances (default 2e-2 and 1e-6). */
  tol32?: number;
  tol64?: number;
}

export interface DirectionCheck {
  precision: Precision;
  direction: number;
  /** The wrt tensors perturbed in this check. */
  inputs: string[];
  analytic: number;
  numeric: number;
  relErr: number;
}

export interface GradCheckResult {
  name: string;
  /** The most precise build that was checked. */
  precision: Precision;
  /** Why the float64 build could not run (undefined when it ran or was not attempted). */
  float64Unavailable?: string;
  /** True when that reason is a missing double kernel in onnxruntime. */
  float64MissingKernel?: boolean;
  /** Max relative error per build that ran. */
  maxRelErr: Partial<Record<Precision, number>>;
  checks: DirectionCheck[];
  /** Human-readable failures; empty when the case passed. */
  failures: string[];
  ok: boolean;
}

/** One node, its inputs in order ('' for an absent optional input). */
export function single(
  name: string,
  op: string,
  inputs: readonly (TensorSpec | '')[],
  attrs?: NodeSpec['attrs'],
  extra: Partial<Omit<OpCase, 'name' | 'tensors' | 'nodes'>> & { nodeOutputs?: readonly string[] } = {},
): OpCase {
  const { nodeOutputs, ...rest } = extra;
  const node: NodeSpec = {
    op,
    inputs: inputs.map((t) => (t === '' ? '' : t.name)),
    outputs: nodeOutputs ?? ['y'],
    ...(attrs ? { attrs } : {}),
  };
  return { name, tensors: inputs.filter((t): t is TensorSpec => t !== ''), nodes: [node], ...rest };
}

// ---------------------------------------------------------------------------------------
// Building a model
// ---------------------------------------------------------------------------------------

export interface BuiltCase {
  model: ModelProto;
  /** Graph inputs to feed, by name (wrt and input tensors). */
  feeds: Record<string, AnyTensor>;
  /** Shapes of the fed inputs, for CompileSpec.inputShape. */
  inputShape: Record<string, number[]>;
  wrt: string[];
  target: string;
  outputs: string[];
}

function elemTypeOf(t: TensorSpec, ft: FloatType): number {
  const type = t.type ?? (t.ints ? 'int64' : 'float');
  switch (type) {
    case 'int64': return DataType.INT64;
    case 'float32': return DataType.FLOAT;
    case 'float64': return DataType.DOUBLE;
    default: return ft;
  }
}

function roleOf(t: TensorSpec, elemType: number): 'wrt' | 'input' | 'const' {
  if (elemType === DataType.INT64) return 'const';
  return t.role ?? 'wrt';
}

export function floatData(elemType: number, values: ArrayLike<number>): Float32Array | Float64Array {
  return elemType === DataType.DOUBLE ? Float64Array.from(values) : Float32Array.from(values);
}

export function ortType(elemType: number): string {
  switch (elemType) {
    case DataType.FLOAT: return 'float32';
    case DataType.DOUBLE: return 'float64';
    case DataType.INT64: return 'int64';
    default: throw new Error(`no feed type for element type ${elemType}`);
  }
}

export function valueInfo(name: string, elemType: number, shape?: readonly number[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, ...(shape ? { shape: { dim: shape.map((d) => ({ dimValue: d })) } } : {}) } },
  };
}

export function makeModel(nodes: NodeProto[], inputs: ValueInfoProto[], initializers: TensorProto[], outputs: ValueInfoProto[], name = 'case'): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'convlens-test',
    graph: { name, node: nodes, initializer: initializers, input: inputs, output: outputs },
  };
}

export function nodeProto(spec: NodeSpec, ft: FloatType, index: number): NodeProto {
  const attrs = typeof spec.attrs === 'function' ? spec.attrs(ft) : (spec.attrs ?? {});
  return {
    name: `${spec.op}_${index}`,
    opType: spec.op,
    domain: '',
    input: [...spec.inputs],
    output: [...spec.outputs],
    attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
  };
}

/** Draw the values of every float tensor of a case (once, shared by both builds). */
export function caseValues(c: OpCase, seed: number): Map<string, number[]> {
  const rand = uniforms(seed);
  const values = new Map<string, number[]>();
  for (const t of c.tensors) {
    if (t.ints) continue;
    values.set(t.name, generate(t.gen ?? { kind: 'uniform', lo: -1, hi: 1 }, elementCount([...t.shape]), rand));
  }
  return values;
}

export function buildCase(c: OpCase, ft: FloatType, values: Map<string, number[]>): BuiltCase {
  const inputs: ValueInfoProto[] = [];
  const initializers: TensorProto[] = [];
  const feeds: Record<string, AnyTensor> = {};
  const inputShape: Record<string, number[]> = {};
  const wrt: string[] = [];
  const wrap: NodeSpec[] = [];
  const batched = (name: string) => `${name}__batched`;
  if (c.unbatched) initializers.push(makeTensorProto('axes__0', { dataType: DataType.INT64, dims: [1], data: BigInt64Array.of(0n) }));
  for (const t of c.tensors) {
    const elemType = elemTypeOf(t, ft);
    const dims = [...t.shape];
    const role = roleOf(t, elemType);
    if (elemType === DataType.INT64) {
      const ints = t.ints ?? [];
      if (ints.length !== elementCount(dims)) throw new Error(`${c.name}: tensor '${t.name}' has ${ints.length} ints for shape [${dims}]`);
      initializers.push(makeTensorProto(t.name, { dataType: DataType.INT64, dims, data: BigInt64Array.from(ints, (v) => BigInt(v)) }));
      continue;
    }
    const data = floatData(elemType, values.get(t.name)!);
    if (role === 'const') {
      initializers.push(makeTensorProto(t.name, { dataType: elemType, dims, data }));
      continue;
    }
    const fed = c.unbatched ? batched(t.name) : t.name;
    const fedDims = c.unbatched ? [1, ...dims] : dims;
    if (c.unbatched) wrap.push({ op: 'Squeeze', inputs: [fed, 'axes__0'], outputs: [t.name] });
    inputs.push(valueInfo(fed, elemType, fedDims));
    feeds[fed] = { type: ortType(elemType), data, dims: fedDims };
    inputShape[fed] = fedDims;
    if (role === 'wrt') wrt.push(fed);
  }
  const last = c.nodes[c.nodes.length - 1];
  let target = c.target ?? last?.outputs[0];
  if (!target) throw new Error(`${c.name}: no target`);
  const specs = [...wrap, ...c.nodes];
  if (c.unbatched) {
    specs.push({ op: 'Unsqueeze', inputs: [target, 'axes__0'], outputs: [batched(target)] });
    target = batched(target);
  }
  const outputs = c.unbatched ? [target] : [...(c.outputs ?? [target])];
  // Output element types are left to the compiler's inference (it rewrites the outputs).
  const nodes = specs.map((n, i) => nodeProto(n, ft, i));
  const model = makeModel(nodes, inputs, initializers, outputs.map((o) => ({ name: o })), c.name);
  return { model, feeds, inputShape, wrt, target, outputs };
}

// ---------------------------------------------------------------------------------------
// Running compiled graphs (reusable by other tests)
// ---------------------------------------------------------------------------------------

/** Element type of a graph input of a (compiled) model. */
export function inputElemType(model: ModelProto, name: string): number {
  const vi = model.graph?.input?.find((i) => i.name === name);
  return vi?.type?.tensorType?.elemType ?? DataType.FLOAT;
}

export interface GradientRun {
  /** Gradient of sum(weight * target) w.r.t. each wrt tensor, as float64 numbers. */
  gradients: Record<string, Float64Array>;
  gradientDims: Record<string, number[]>;
  /** Every output of the compiled graph (forward outputs, exposed tensors, gradients). */
  outputs: Record<string, AnyTensor>;
}

/** The target-weight feed, in the element type the compiled graph declares. */
export function weightFeed(compiled: CompiledGraph, weight: ArrayLike<number>): AnyTensor {
  const elemType = inputElemType(compiled.model, compiled.targetWeight);
  const n = elementCount(compiled.targetShape);
  if (weight.length !== n) throw new Error(`target weight has ${weight.length} values, the target [${compiled.targetShape}] needs ${n}`);
  return { type: ortType(elemType), data: floatData(elemType, weight), dims: [...compiled.targetShape] };
}

/** Run a compiled graph with these feeds and target weight; returns the gradients. */
export async function runGradients(
  session: Session,
  compiled: CompiledGraph,
  feeds: Record<string, AnyTensor>,
  weight: ArrayLike<number>,
): Promise<GradientRun> {
  const outputs = await session.run({ ...feeds, [compiled.targetWeight]: weightFeed(compiled, weight) });
  const gradients: Record<string, Float64Array> = {};
  const gradientDims: Record<string, number[]> = {};
  for (const [wrt, out] of Object.entries(compiled.gradients)) {
    const t = outputs[out];
    if (!t) throw new Error(`the compiled graph returned no output '${out}' (gradient of '${wrt}')`);
    gradients[wrt] = Float64Array.from(t.data as ArrayLike<number>);
    gradientDims[wrt] = [...t.dims];
  }
  return { gradients, gradientDims, outputs };
}

/** Feeds from plain arrays: float32 unless a type is given. */
export function feedsOf(values: Record<string, { data: ArrayLike<number>; dims: readonly number[]; type?: 'float32' | 'float64' }>): Record<string, AnyTensor> {
  const out: Record<string, AnyTensor> = {};
  for (const [name, v] of Object.entries(values)) {
    const type = v.type ?? 'float32';
    out[name] = { type, data: type === 'float64' ? Float64Array.from(v.data) : Float32Array.from(v.data), dims: [...v.dims] };
  }
  return out;
}

/** Compile, run once and release: the gradients of sum(weight * target). */
export async function compileAndRun(
  model: ModelProto,
  spec: CompileSpec,
  feeds: Record<string, AnyTensor>,
  weight: ArrayLike<number>,
): Promise<GradientRun & { compiled: CompiledGraph }> {
  const compiled = await compile(model, spec);
  const session = await Session.create(compiled.model);
  try {
    return { ...(await runGradients(session, compiled, feeds, weight)), compiled };
  } finally {
    await session.release();
  }
}

// ---------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------

export function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-3);
}

function rms(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return values.length ? Math.sqrt(s / values.length) : 0;
}

function weightedSum(w: ArrayLike<number>, y: AnyTensor): number {
  const data = y.data as ArrayLike<number>;
  if (data.length !== w.length) throw new Error(`target has ${data.length} values, weight ${w.length}`);
  let s = 0;
  for (let i = 0; i < data.length; i++) s += w[i]! * data[i]!;
  return s;
}

function typedLike(t: AnyTensor, values: ArrayLike<number>): AnyTensor {
  return { type: t.type, data: t.data instanceof Float64Array ? Float64Array.from(values) : Float32Array.from(values), dims: t.dims };
}

interface BuildCheck {
  checks: DirectionCheck[];
  failures: string[];
}

async function checkBuild(c: OpCase, precision: Precision, values: Map<string, number[]>, seed: number, opts: GradCheckOptions): Promise<BuildCheck> {
  const ft: FloatType = precision === 'float64' ? DataType.DOUBLE : DataType.FLOAT;
  const built = buildCase(c, ft, values);
  const compiled = await compile(built.model, {
    inputShape: built.inputShape,
    targetTensor: built.target,
    output: built.outputs[0]!,
    wrt: built.wrt,
    rules: opts.rules ?? 'gradient',
  });
  const session = await Session.create(compiled.model);
  const failures: string[] = [];
  const checks: DirectionCheck[] = [];
  try {
    const rand = uniforms(seed ^ 0x9e3779b9);
    const w = Array.from({ length: elementCount(compiled.targetShape) }, () => 2 * rand() - 1);
    const base = await runGradients(session, compiled, built.feeds, w);
    for (const name of built.wrt) {
      const dims = base.gradientDims[name]!;
      const expected = built.inputShape[name]!;
      if (dims.join(',') !== expected.join(',')) failures.push(`${precision}: gradient of '${name}' has shape [${dims}], the input [${expected}]`);
      if (base.gradients[name]!.some((g) => !Number.isFinite(g))) failures.push(`${precision}: gradient of '${name}' is not finite`);
    }
    if (failures.length) return { checks, failures };

    const hBase = precision === 'float64' ? (c.h64 ?? opts.h64 ?? 1e-6) : (c.h32 ?? opts.h32 ?? 1e-2);
    const tol = precision === 'float64' ? (c.tol64 ?? opts.tol64 ?? 1e-6) : (c.tol32 ?? opts.tol32 ?? 2e-2);
    const f = async (feeds: Record<string, AnyTensor>) => {
      const out = await session.run({ ...feeds, [compiled.targetWeight]: weightFeed(compiled, w) }, [built.target]);
      return weightedSum(w, out[built.target]!);
    };
    // Each direction perturbs all wrt tensors together and, when there are several, each alone.
    const subsets = built.wrt.length > 1 ? [built.wrt, ...built.wrt.map((x) => [x])] : [built.wrt];
    const directions = opts.directions ?? 2;
    for (let d = 0; d < directions; d++) {
      const dirRand = uniforms(seed + 7919 * (d + 1));
      const u = new Map(built.wrt.map((name) => [name, Array.from({ length: built.feeds[name]!.data.length }, () => 2 * dirRand() - 1)]));
      for (const subset of subsets) {
        const plus = { ...built.feeds };
        const minus = { ...built.feeds };
        let analytic = 0;
        for (const name of subset) {
          const x = built.feeds[name]!;
          const xs = x.data as ArrayLike<number>;
          const h = hBase * Math.min(1, Math.max(0.1, rms(xs)));
          const dir = u.get(name)!;
          plus[name] = typedLike(x, Array.from(xs, (v, i) => v + h * dir[i]!));
          minus[name] = typedLike(x, Array.from(xs, (v, i) => v - h * dir[i]!));
          // The step actually taken (after rounding to the input's type).
          const p = plus[name].data as ArrayLike<number>;
          const m = minus[name].data as ArrayLike<number>;
          const g = base.gradients[name]!;
          for (let i = 0; i < g.length; i++) analytic += g[i]! * (p[i]! - m[i]!);
        }
        const numeric = (await f(plus)) - (await f(minus));
        // Both per unit step: divide by 2 hBase.
        const a = analytic / (2 * hBase);
        const n = numeric / (2 * hBase);
        const relErr = relativeError(a, n);
        checks.push({ precision, direction: d, inputs: subset, analytic: a, numeric: n, relErr });
        if (!(relErr < tol)) {
          failures.push(`${precision}: direction ${d} over [${subset.join(', ')}]: compiled ${a.toPrecision(10)} vs central difference ${n.toPrecision(10)} (relative error ${relErr.toExponential(2)} >= ${tol})`);
        }
      }
    }
    const largest = Math.max(...checks.map((k) => Math.max(Math.abs(k.analytic), Math.abs(k.numeric))));
    if (!(largest > 1e-3)) failures.push(`${precision}: degenerate case: every directional derivative is ~0 (max ${largest.toExponential(2)}); the check proves nothing`);
  } finally {
    await session.release();
  }
  return { checks, failures };
}

/** onnxruntime's message for an op without a kernel for the element type. */
export function isMissingKernel(message: string): boolean {
  return /Could not find an implementation for|NOT_IMPLEMENTED/.test(message);
}

/** Check one case; never throws for a failing rule (see `failures`), only for a malformed case. */
export async function gradCheck(c: OpCase, opts: GradCheckOptions = {}): Promise<GradCheckResult> {
  const seed = (hashSeed(c.name) ^ (opts.seed ?? 1)) >>> 0;
  const values = caseValues(c, seed);
  const mode = c.precision === 'float32' ? 'float32' : (opts.precision ?? 'both');
  const checks: DirectionCheck[] = [];
  const failures: string[] = [];
  const maxRelErr: Partial<Record<Precision, number>> = {};
  let precision: Precision = 'float32';
  let float64Unavailable: string | undefined;
  let float64MissingKernel: boolean | undefined;
  const record = (p: Precision, r: BuildCheck) => {
    checks.push(...r.checks);
    failures.push(...r.failures);
    maxRelErr[p] = Math.max(0, ...r.checks.map((k) => k.relErr));
  };
  if (mode === 'both' || mode === 'float64') {
    try {
      const r = await checkBuild(c, 'float64', values, seed, opts);
      record('float64', r);
      precision = 'float64';
    } catch (e) {
      float64Unavailable = String((e as Error)?.message ?? e).split('\n')[0]!;
      float64MissingKernel = isMissingKernel(float64Unavailable);
      if (mode === 'float64' || (!float64MissingKernel && (opts.strictFloat64 ?? true))) {
        failures.push(`float64: the double build failed, and not for want of a double kernel: ${float64Unavailable}`);
      }
    }
  }
  if (mode === 'both' || mode === 'float32') {
    try {
      record('float32', await checkBuild(c, 'float32', values, seed, opts));
    } catch (e) {
      failures.push(`float32: ${String((e as Error)?.message ?? e)}`);
    }
  }
  return {
    name: c.name,
    precision,
    ...(float64Unavailable !== undefined ? { float64Unavailable, float64MissingKernel: float64MissingKernel ?? false } : {}),
    maxRelErr,
    checks,
    failures,
    ok: failures.length === 0,
  };
}
