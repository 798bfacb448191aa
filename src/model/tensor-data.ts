/**
 * ONNX tensor element types and the conversion between TensorProto and typed arrays.
 * Values follow TensorProto.DataType of the ONNX spec.
 */
import { ConvlensError } from '../errors.ts';
import { int64ToNumber, type Int64, type TensorProto } from './onnx-proto.ts';

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type DataTypeCode = number;

export const dataTypeNames: Record<number, string> = Object.fromEntries(
  Object.entries(DataType).map(([k, v]) => [v, k.toLowerCase()]),
);

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A constant tensor read from a model: element type, dims and values. */
export interface TensorValue {
  dataType: DataTypeCode;
  dims: number[];
  data: TypedArray;
}

interface ElementInfo {
  bytes: number;
  make: (buf: ArrayBuffer, offset: number, length: number) => TypedArray;
  alloc: (length: number) => TypedArray;
}

const elements: Record<number, ElementInfo> = {
  [DataType.FLOAT]: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n), alloc: (n) => new Float32Array(n) },
  [DataType.DOUBLE]: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n), alloc: (n) => new Float64Array(n) },
  [DataType.INT8]: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n), alloc: (n) => new Int8Array(n) },
  [DataType.UINT8]: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n), alloc: (n) => new Uint8Array(n) },
  [DataType.BOOL]: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n), alloc: (n) => new Uint8Array(n) },
  [DataType.INT16]: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n), alloc: (n) => new Int16Array(n) },
  [DataType.UINT16]: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n), alloc: (n) => new Uint16Array(n) },
  [DataType.FLOAT16]: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n), alloc: (n) => new Uint16Array(n) },
  [DataType.INT32]: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n), alloc: (n) => new Int32Array(n) },
  [DataType.UINT32]: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n), alloc: (n) => new Uint32Array(n) },
  [DataType.INT64]: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n), alloc: (n) => new BigInt64Array(n) },
  [DataType.UINT64]: { bytes: 8, make: (b, o, n) => new BigUint64Array(b, o, n), alloc: (n) => new BigUint64Array(n) },
};

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function elementInfo(dataType: number, what: string): ElementInfo {
  const info = elements[dataType];
  if (!info) throw new ConvlensError(`${what}: element type ${dataTypeNames[dataType] ?? dataType} is not supported`);
  return info;
}

/** The largest constant convlens reads: 2^31 - 1 bytes (the limit of one JS typed array on many platforms). */
const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** Dims of a stored tensor, checked before anything is allocated: integers >= 0, a size that fits. */
function checkedDims(dims: number[], bytes: number, what: string): number {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ConvlensError(`${what} has shape [${dims}] with an invalid dimension ${d}: the model file is corrupt; export it again`);
  }
  const n = elementCount(dims);
  if (n * bytes > MAX_TENSOR_BYTES) throw new ConvlensError(`${what} has shape [${dims}] (${n} values): larger than the 2 GB convlens reads; the model file is corrupt or too large`);
  return n;
}

const deferredLengths = new WeakMap<TensorProto, number>();

/**
 * Leave a tensor's raw_data on disk until something reads it (file-scan.ts): `rawData`
 * becomes a getter that calls `read` once; its length is known without reading.
 */
export function deferRawData(t: TensorProto, length: number, read: () => Uint8Array): void {
  let bytes: Uint8Array | undefined;
  deferredLengths.set(t, length);
  Object.defineProperty(t, 'rawData', {
    configurable: true,
    enumerable: true,
    get: () => (bytes ??= read()),
    set: (v: Uint8Array) => {
      deferredLengths.delete(t);
      Object.defineProperty(t, 'rawData', { value: v, writable: true, configurable: true, enumerable: true });
    },
  });
}

/** The byte length of a tensor's raw_data, without reading a deferred one. */
export function rawByteLength(t: TensorProto): number {
  return deferredLengths.get(t) ?? t.rawData?.length ?? 0;
}

/**
 * Check a stored tensor's dims and data size without decoding it (so that a corrupt file
 * fails with its tensor named before onnxruntime or an allocation sees it).
 */
export function checkTensorProto(t: TensorProto, what = `tensor '${t.name ?? ''}'`): void {
  const dims = (t.dims ?? []).map((d: Int64) => int64ToNumber(d));
  const info = elements[t.dataType ?? 0];
  if (!info) return; // element types convlens does not read are left to onnxruntime
  const n = checkedDims(dims, info.bytes, what);
  if (t.dataLocation === 1) return;
  const raw = rawByteLength(t);
  if (raw > 0) {
    if (raw !== n * info.bytes) throw new ConvlensError(`${what} holds ${raw} bytes, but its shape [${dims}] needs ${n * info.bytes}: the model file is corrupt`);
    return;
  }
  const len = Math.max(t.floatData?.length ?? 0, t.doubleData?.length ?? 0, t.int64Data?.length ?? 0, t.uint64Data?.length ?? 0, t.int32Data?.length ?? 0);
  if (len !== n) throw new ConvlensError(`${what} holds ${len} values, but its shape [${dims}] needs ${n}: the model file is corrupt`);
}

/**
 * Decode a TensorProto's values. `external` resolves external-data initializers
 * (location, offset, length) to bytes.
 */
export function readTensorProto(
  t: TensorProto,
  external?: (location: string, offset: number, length: number | undefined) => Uint8Array,
): TensorValue {
  const dims = (t.dims ?? []).map((d: Int64) => int64ToNumber(d));
  const dataType = t.dataType ?? 0;
  const what = `tensor '${t.name ?? ''}'`;
  const info = elementInfo(dataType, what);
  const n = checkedDims(dims, info.bytes, what);
  let raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataLocation === 1) {
    if (!external) throw new ConvlensError(`${what} is stored as external data, but the model was loaded from bytes: load it from its file path`);
    const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    if (!kv['location']) throw new ConvlensError(`${what} has external data without a location`);
    const offset = Number(kv['offset'] ?? 0);
    const length = kv['length'] !== undefined ? Number(kv['length']) : undefined;
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
      throw new ConvlensError(`${what} has external data at offset '${kv['offset']}' length '${kv['length']}': not byte counts; the model file is corrupt`);
    }
    if (length !== undefined && length !== n * info.bytes) {
      throw new ConvlensError(`${what} has ${length} bytes of external data, but its shape [${dims}] needs ${n * info.bytes}: the model file is corrupt`);
    }
    raw = external(kv['location'], offset, length ?? n * info.bytes);
  }
  if (raw) {
    if (raw.length !== n * info.bytes) {
      throw new ConvlensError(`${what} holds ${raw.length} bytes, but its shape [${dims}] needs ${n * info.bytes}: the model file is corrupt`);
    }
    // Copy into an aligned buffer (protobuf byte fields can start at any offset).
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return { dataType, dims, data: info.make(copy.buffer, 0, n) };
  }
  const out = info.alloc(n);
  const source: ArrayLike<number | Int64> | undefined =
    dataType === DataType.FLOAT ? t.floatData
    : dataType === DataType.DOUBLE ? t.doubleData
    : dataType === DataType.INT64 ? t.int64Data
    : dataType === DataType.UINT64 || dataType === DataType.UINT32 ? t.uint64Data
    : t.int32Data;
  const len = source?.length ?? 0;
  if (len !== n) throw new ConvlensError(`${what} holds ${len} values, but its shape [${dims}] needs ${n}: the model file is corrupt`);
  for (let i = 0; i < n; i++) {
    const v = source![i]!;
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
      out[i] = typeof v === 'number' ? BigInt(v) : BigInt((v as { toString(): string }).toString());
    } else {
      (out as Float32Array)[i] = int64ToNumber(v as Int64);
    }
  }
  return { dataType, dims, data: out };
}

/** Encode values as a TensorProto with raw_data. */
export function makeTensorProto(name: string, value: TensorValue): TensorProto {
  const bytes = new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength);
  return { name, dataType: value.dataType, dims: value.dims.slice(), rawData: bytes.slice() };
}

/** Values as plain numbers (int64 saturated to the safe-integer range). */
export function toNumbers(data: TypedArray): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = typeof v === 'bigint'
      ? Number(v > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : v < BigInt(Number.MIN_SAFE_INTEGER) ? BigInt(Number.MIN_SAFE_INTEGER) : v)
      : v;
  }
  return out;
}

export function floatTensor(dims: number[], data: ArrayLike<number>): TensorValue {
  return { dataType: DataType.FLOAT, dims, data: Float32Array.from(data) };
}

export function int64Tensor(dims: number[], data: ArrayLike<number>): TensorValue {
  return { dataType: DataType.INT64, dims, data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))) };
}
