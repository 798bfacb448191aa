/**
 * TF.js weight manifests: the binary shards of a model.json decoded into named tensors,
 * with float16 and affine-quantized (uint8/uint16, value = q * scale + min) weights
 * dequantized to float32 on load, as tfjs-core's io.decodeWeights does.
 */
import { DataType, type TensorValue } from '../../model/tensor-data.ts';
import { ImportError } from './errors.ts';

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  min?: number;
  scale?: number;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** Reads one shard named by a manifest path (relative to model.json). */
export type ShardReader = (path: string) => Uint8Array;

const ELEMENT_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** IEEE 754 half precision to float (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Decode one weight from its bytes (little-endian, as TF.js writes them). */
function decodeWeight(w: WeightEntry, bytes: Uint8Array): TensorValue {
  const n = count(w.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = w.quantization;
  const isInt = w.dtype === 'int32';
  if (w.dtype !== 'float32' && !isInt && w.dtype !== 'bool') {
    throw new ImportError(`weight '${w.name}' has dtype ${w.dtype}: convlens imports float32, int32 and bool weights`);
  }
  if (!q) {
    if (w.dtype === 'bool') return { dataType: DataType.BOOL, dims: w.shape.slice(), data: Uint8Array.from(bytes.subarray(0, n)) };
    const data = isInt ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = isInt ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
    return { dataType: isInt ? DataType.INT32 : DataType.FLOAT, dims: w.shape.slice(), data };
  }
  const read = q.dtype === 'uint8' ? (i: number) => view.getUint8(i)
    : q.dtype === 'uint16' ? (i: number) => view.getUint16(2 * i, true)
    : q.dtype === 'float16' ? (i: number) => halfToFloat(view.getUint16(2 * i, true))
    : undefined;
  if (!read) throw new ImportError(`weight '${w.name}' is quantized as ${String(q.dtype)}: convlens reads uint8, uint16 and float16 quantization`);
  const affine = q.dtype !== 'float16';
  const [scale, min] = [q.scale ?? 1, q.min ?? 0];
  const data = isInt ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = affine ? read(i) * scale + min : read(i);
    data[i] = isInt ? Math.round(v) : v;
  }
  return { dataType: isInt ? DataType.INT32 : DataType.FLOAT, dims: w.shape.slice(), data };
}

/** Every weight of the manifest, by name, in float32 (or int32/bool for integer constants). */
export function readWeights(manifest: readonly WeightGroup[], readShard: ShardReader): Map<string, TensorValue> {
  const out = new Map<string, TensorValue>();
  for (const group of manifest) {
    const shards = group.paths.map((p) => readShard(p));
    const total = shards.reduce((s, b) => s + b.length, 0);
    const buffer = new Uint8Array(total);
    let at = 0;
    for (const s of shards) {
      buffer.set(s, at);
      at += s.length;
    }
    let offset = 0;
    for (const w of group.weights) {
      const bytes = count(w.shape) * (ELEMENT_BYTES[w.quantization?.dtype ?? w.dtype] ?? 4);
      if (offset + bytes > total) {
        throw new ImportError(`weight '${w.name}' lies past the end of shards ${group.paths.join(', ')}: the weight files are truncated or do not belong to this model.json`);
      }
      out.set(w.name, decodeWeight(w, buffer.subarray(offset, offset + bytes)));
      offset += bytes;
    }
  }
  return out;
}
