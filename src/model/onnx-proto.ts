/**
 * The ONNX protobuf messages (onnx/onnx.proto, IR version 10), declared for protobufjs by
 * field number. Every field of the spec is declared, so that decoding and re-encoding a
 * model keeps all of it. Field names are camelCase; the wire format depends only on the
 * numbers.
 */
import protobuf from 'protobufjs';

type FieldSpec = [name: string, id: number, type: string, rule?: 'repeated' | 'packed'];

function message(fields: FieldSpec[], nested?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, id, type, rule] of fields) {
    out[name] = {
      id,
      type,
      // protobufjs packs repeated scalars unless told otherwise; ONNX (proto2) packs only some.
      ...(rule ? { rule: 'repeated', options: { packed: rule === 'packed' } } : {}),
    };
  }
  return nested ? { fields: out, nested } : { fields: out };
}

const KV = 'StringStringEntryProto';

const schema = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: message([['key', 1, 'string'], ['value', 2, 'string']]),
        OperatorSetIdProto: message([['domain', 1, 'string'], ['version', 2, 'int64']]),
        TensorAnnotation: message([
          ['tensorName', 1, 'string'],
          ['quantParameterTensorNames', 2, KV, 'repeated'],
        ]),
        AttributeProto: message([
          ['name', 1, 'string'],
          ['refAttrName', 21, 'string'],
          ['docString', 13, 'string'],
          ['type', 20, 'int32'],
          ['f', 2, 'float'],
          ['i', 3, 'int64'],
          ['s', 4, 'bytes'],
          ['t', 5, 'TensorProto'],
          ['g', 6, 'GraphProto'],
          ['sparseTensor', 22, 'SparseTensorProto'],
          ['tp', 14, 'TypeProto'],
          ['floats', 7, 'float', 'repeated'],
          ['ints', 8, 'int64', 'repeated'],
          ['strings', 9, 'bytes', 'repeated'],
          ['tensors', 10, 'TensorProto', 'repeated'],
          ['graphs', 11, 'GraphProto', 'repeated'],
          ['sparseTensors', 23, 'SparseTensorProto', 'repeated'],
          ['typeProtos', 15, 'TypeProto', 'repeated'],
        ]),
        ValueInfoProto: message([
          ['name', 1, 'string'],
          ['type', 2, 'TypeProto'],
          ['docString', 3, 'string'],
          ['metadataProps', 4, KV, 'repeated'],
        ]),
        NodeProto: message([
          ['input', 1, 'string', 'repeated'],
          ['output', 2, 'string', 'repeated'],
          ['name', 3, 'string'],
          ['opType', 4, 'string'],
          ['domain', 7, 'string'],
          ['overload', 8, 'string'],
          ['attribute', 5, 'AttributeProto', 'repeated'],
          ['docString', 6, 'string'],
          ['metadataProps', 9, KV, 'repeated'],
        ]),
        TrainingInfoProto: message([
          ['initialization', 1, 'GraphProto'],
          ['algorithm', 2, 'GraphProto'],
          ['initializationBinding', 3, KV, 'repeated'],
          ['updateBinding', 4, KV, 'repeated'],
        ]),
        ModelProto: message([
          ['irVersion', 1, 'int64'],
          ['opsetImport', 8, 'OperatorSetIdProto', 'repeated'],
          ['producerName', 2, 'string'],
          ['producerVersion', 3, 'string'],
          ['domain', 4, 'string'],
          ['modelVersion', 5, 'int64'],
          ['docString', 6, 'string'],
          ['graph', 7, 'GraphProto'],
          ['metadataProps', 14, KV, 'repeated'],
          ['trainingInfo', 20, 'TrainingInfoProto', 'repeated'],
          ['functions', 25, 'FunctionProto', 'repeated'],
        ]),
        GraphProto: message([
          ['node', 1, 'NodeProto', 'repeated'],
          ['name', 2, 'string'],
          ['initializer', 5, 'TensorProto', 'repeated'],
          ['sparseInitializer', 15, 'SparseTensorProto', 'repeated'],
          ['docString', 10, 'string'],
          ['input', 11, 'ValueInfoProto', 'repeated'],
          ['output', 12, 'ValueInfoProto', 'repeated'],
          ['valueInfo', 13, 'ValueInfoProto', 'repeated'],
          ['quantizationAnnotation', 14, 'TensorAnnotation', 'repeated'],
          ['metadataProps', 16, KV, 'repeated'],
        ]),
        TensorProto: message(
          [
            ['dims', 1, 'int64', 'repeated'],
            ['dataType', 2, 'int32'],
            ['segment', 3, 'Segment'],
            ['floatData', 4, 'float', 'packed'],
            ['int32Data', 5, 'int32', 'packed'],
            ['stringData', 6, 'bytes', 'repeated'],
            ['int64Data', 7, 'int64', 'packed'],
            ['name', 8, 'string'],
            ['docString', 12, 'string'],
            ['rawData', 9, 'bytes'],
            ['externalData', 13, KV, 'repeated'],
            ['dataLocation', 14, 'int32'],
            ['doubleData', 10, 'double', 'packed'],
            ['uint64Data', 11, 'uint64', 'packed'],
            ['metadataProps', 16, KV, 'repeated'],
          ],
          { Segment: message([['begin', 1, 'int64'], ['end', 2, 'int64']]) },
        ),
        SparseTensorProto: message([
          ['values', 1, 'TensorProto'],
          ['indices', 2, 'TensorProto'],
          ['dims', 3, 'int64', 'repeated'],
        ]),
        TensorShapeProto: message([['dim', 1, 'Dimension', 'repeated']], {
          Dimension: message([
            ['dimValue', 1, 'int64'],
            ['dimParam', 2, 'string'],
            ['denotation', 3, 'string'],
          ]),
        }),
        TypeProto: message(
          [
            ['tensorType', 1, 'TypeTensor'],
            ['sequenceType', 4, 'TypeSequence'],
            ['mapType', 5, 'TypeMap'],
            ['optionalType', 9, 'TypeOptional'],
            ['sparseTensorType', 8, 'TypeTensor'],
            ['denotation', 6, 'string'],
          ],
          {
            TypeTensor: message([['elemType', 1, 'int32'], ['shape', 2, 'TensorShapeProto']]),
            TypeSequence: message([['elemType', 1, 'TypeProto']]),
            TypeMap: message([['keyType', 1, 'int32'], ['valueType', 2, 'TypeProto']]),
            TypeOptional: message([['elemType', 1, 'TypeProto']]),
          },
        ),
        FunctionProto: message([
          ['name', 1, 'string'],
          ['input', 4, 'string', 'repeated'],
          ['output', 5, 'string', 'repeated'],
          ['attribute', 6, 'string', 'repeated'],
          ['attributeProto', 11, 'AttributeProto', 'repeated'],
          ['node', 7, 'NodeProto', 'repeated'],
          ['docString', 8, 'string'],
          ['opsetImport', 9, 'OperatorSetIdProto', 'repeated'],
          ['domain', 10, 'string'],
          ['overload', 13, 'string'],
          ['valueInfo', 12, 'ValueInfoProto', 'repeated'],
          ['metadataProps', 14, KV, 'repeated'],
        ]),
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema as protobuf.INamespace);
const ModelType = root.lookupType('onnx.ModelProto');
const GraphType = root.lookupType('onnx.GraphProto');
const TensorType = root.lookupType('onnx.TensorProto');

/** int64 fields decode to protobufjs Long objects (exact) or plain numbers. */
export interface LongLike { low: number; high: number; unsigned: boolean; toNumber(): number }
export type Int64 = number | LongLike;

export interface StringStringEntry { key: string; value: string }
export interface OperatorSetId { domain?: string; version?: Int64 }
export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  stringData?: Uint8Array[];
  rawData?: Uint8Array;
  name?: string;
  docString?: string;
  externalData?: StringStringEntry[];
  dataLocation?: number;
}
export interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  refAttrName?: string;
}
export interface Dimension { dimValue?: Int64; dimParam?: string }
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: Dimension[] } };
  [other: string]: unknown;
}
export interface ValueInfoProto { name: string; type?: TypeProto; docString?: string }
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}
export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  [other: string]: unknown;
}
export interface ModelProto {
  irVersion?: Int64;
  opsetImport?: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntry[];
  functions?: unknown[];
  [other: string]: unknown;
}

export function decodeModelProto(bytes: Uint8Array): ModelProto {
  return ModelType.decode(bytes) as unknown as ModelProto;
}

/** Field numbers (onnx.proto) of the messages that hold the weights: ModelProto.graph, GraphProto.initializer, TensorProto.raw_data. */
export const weightFields = { modelGraph: 7, graphInitializer: 5, tensorRawData: 9 } as const;
/** Protobuf wire type of length-delimited fields (bytes, strings, messages). */
export const LENGTH_DELIMITED = 2;

// Wire tags (field number << 3 | wire type) of the fields encodeModelProto writes itself.
const MODEL_GRAPH = (weightFields.modelGraph << 3) | LENGTH_DELIMITED;
const GRAPH_INITIALIZER = (weightFields.graphInitializer << 3) | LENGTH_DELIMITED;
const TENSOR_RAW_DATA = (weightFields.tensorRawData << 3) | LENGTH_DELIMITED;

export const varintSize = (n: number): number => (n < 0x80 ? 1 : 1 + varintSize(Math.floor(n / 0x80)));

/** Write `n` as a protobuf varint at `at`; returns the position after it. */
export function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/**
 * The model's protobuf bytes. protobufjs writes a nested message into one growing buffer
 * and shifts it to make room for each length prefix, which copies every weight several
 * times (a quarter of a second for ResNet-50's 100 MB); here the weights' raw bytes are
 * placed once, after the rest of the graph (protobuf readers take fields in any order).
 */
export function encodeModelProto(model: ModelProto): Uint8Array {
  const encode = (type: protobuf.Type, message: object) => type.encode(message as protobuf.Message).finish();
  const graph = model.graph;
  if (!graph?.initializer?.length) return encode(ModelType, model);
  const head = encode(ModelType, { ...model, graph: undefined });
  const graphHead = encode(GraphType, { ...graph, initializer: [] });
  const tensors = graph.initializer.map((t) => {
    const raw = t.rawData?.length ? t.rawData : undefined;
    const rest = encode(TensorType, { ...t, rawData: undefined });
    const size = rest.length + (raw ? 1 + varintSize(raw.length) + raw.length : 0);
    return { rest, raw, size };
  });
  const graphSize = tensors.reduce((n, t) => n + 1 + varintSize(t.size) + t.size, graphHead.length);
  const out = new Uint8Array(head.length + 1 + varintSize(graphSize) + graphSize);
  out.set(head);
  let at = head.length;
  out[at++] = MODEL_GRAPH;
  at = writeVarint(out, at, graphSize);
  out.set(graphHead, at);
  at += graphHead.length;
  for (const { rest, raw, size } of tensors) {
    out[at++] = GRAPH_INITIALIZER;
    at = writeVarint(out, at, size);
    out.set(rest, at);
    at += rest.length;
    if (raw) {
      out[at++] = TENSOR_RAW_DATA;
      at = writeVarint(out, at, raw.length);
      out.set(raw, at);
      at += raw.length;
    }
  }
  return out;
}

export function int64ToNumber(v: Int64 | undefined | null): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && typeof v.toNumber === 'function') {
    // Saturate values beyond the safe range (INT64_MAX is common as "to the end" in Slice).
    const n = v.toNumber();
    return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
  }
  return Number(v);
}
