/**
 * Parsing and serializing ONNX models, with the checks that turn a bad file into an error
 * that names the problem and the fix. Browser-safe: no Node-only imports (see file.ts).
 */
import { ConvlensError } from '../errors.ts';
import { decodeModelProto, encodeModelProto, int64ToNumber, type ModelProto, type NodeProto, type TensorProto } from './onnx-proto.ts';
import { checkTensorProto, deferRawData, readTensorProto, makeTensorProto } from './tensor-data.ts';

/** The opsets of the default ONNX domain that convlens reads. */
export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

export type ExternalDataReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

export class ModelError extends ConvlensError {
  override name = 'ModelError';
}

export interface ParseOptions {
  /** Where a file-based model finds its external-data initializers. */
  external?: ExternalDataReader;
  /** Name used in error messages. */
  source?: string;
  /** Main-graph initializers (by position) whose raw_data is read when first used (file-scan.ts). */
  deferred?: { index: number; length: number; read: () => Uint8Array }[];
}

/** Decode ONNX bytes into a ModelProto with all initializers inline (those in `deferred`: read when first used). */
export function parseModel(bytes: Uint8Array, options: ParseOptions = {}): ModelProto {
  const source = options.source ?? 'the model';
  if (bytes.length === 0) throw new ModelError(`${source} is empty: export the model again`);
  let model: ModelProto;
  try {
    model = decodeModelProto(bytes);
  } catch (e) {
    throw new ModelError(
      `${source} is not a readable ONNX file (${(e as Error).message}); it may be truncated or not ONNX: export it again with torch.onnx.export or tf2onnx (a TF.js model: convlens convert model.json -o model.onnx)`,
    );
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0 || !model.opsetImport || model.opsetImport.length === 0) {
    throw new ModelError(`${source} is not an ONNX model (no graph or no opset): export it again with torch.onnx.export or tf2onnx (a TF.js model: convlens convert model.json -o model.onnx)`);
  }
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ModelError(
      `${source} uses ONNX opset ${opset}; convlens reads opsets ${MIN_OPSET} to ${MAX_OPSET}: re-export with opset_version=17 (torch.onnx.export) or --opset 17 (tf2onnx), or convert it with onnx.version_converter`,
    );
  }
  const initializers = graph.initializer ?? [];
  for (const d of options.deferred ?? []) deferRawData(initializers[d.index]!, d.length, d.read);
  checkModelGraph(model, source);
  checkConstants(graph.node, initializers);
  inlineExternalData(model, options, source);
  return model;
}

/** Dims and sizes of every initializer and Constant (subgraphs included), before anything reads them. */
function checkConstants(nodes: readonly NodeProto[], initializers: readonly TensorProto[]): void {
  for (const t of initializers) checkTensorProto(t, `initializer '${t.name ?? ''}'`);
  for (const node of nodes) {
    for (const a of node.attribute ?? []) {
      if (a.t) checkTensorProto(a.t, `the ${a.name} of node '${node.name ?? node.opType}'`);
      for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) checkConstants(g.node ?? [], g.initializer ?? []);
    }
  }
}

/** An image input to feed and outputs that some node (or input) produces; what every method needs. */
export function checkModelGraph(model: ModelProto, source: string): void {
  const graph = model.graph;
  if (!graph) throw new ModelError(`${source} has no graph: export it again`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length === 0) throw new ModelError(`${source} has no graph input (only weights): export the model with its image input`);
  const outputs = graph.output ?? [];
  if (outputs.length === 0) throw new ModelError(`${source} has no graph output: export the model with its score output (e.g. output_names=['logits'])`);
  const produced = new Set<string>([...inputs.map((i) => i.name), ...initializers].filter((n): n is string => n !== undefined));
  for (const node of graph.node) for (const o of node.output ?? []) produced.add(o);
  for (const o of outputs) {
    if (!o.name || !produced.has(o.name)) {
      throw new ModelError(`${source} declares output '${o.name ?? ''}' that no node computes: the file is inconsistent; export it again`);
    }
  }
}

export function serializeModel(model: ModelProto): Uint8Array {
  return encodeModelProto(model);
}

/** The version of the default ("" or "ai.onnx") domain. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new ModelError('the model imports no default ONNX opset: export it again');
  return int64ToNumber(entry.version);
}

function inlineExternalData(model: ModelProto, options: ParseOptions, source: string): void {
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataLocation !== 1) continue;
    if (!options.external) {
      throw new ModelError(`${source} keeps its weights in external data files: load it from its file path, next to those files`);
    }
    const value = readTensorProto(t, options.external);
    const inline = makeTensorProto(t.name ?? '', value);
    t.rawData = inline.rawData!;
    t.dataLocation = 0;
    t.externalData = [];
  }
}

/**
 * A copy made by a round trip through the wire format, except the main graph's
 * initializers (the weights: hundreds of MB for VGG16), which the copy shares: convlens
 * never changes a TensorProto in place, it replaces it (folding, rewrites, randomization).
 */
export function cloneModel(model: ModelProto): ModelProto {
  const weights = model.graph?.initializer;
  if (!weights?.length) return decodeModelProto(encodeModelProto(model));
  model.graph!.initializer = [];
  try {
    const copy = decodeModelProto(encodeModelProto(model));
    copy.graph!.initializer = [...weights];
    return copy;
  } finally {
    model.graph!.initializer = weights;
  }
}
