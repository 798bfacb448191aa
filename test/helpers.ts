/** Small helpers shared by tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseNpy } from '../src/runtime/npy.ts';
import type { Tensor } from '../src/runtime/session.ts';

import type { TensorProto, ValueInfoProto } from '../src/model/onnx-proto.ts';

/** A float tensor value-info with static dims, for hand-built test models. */
export const valueInfo = (name: string, dims: number[]): ValueInfoProto => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/** A float32 initializer, for hand-built test models. */
export const floatInitializer = (name: string, dims: number[], values: ArrayLike<number>): TensorProto => ({ name, dataType: 1, dims, rawData: new Uint8Array(Float32Array.from(values).buffer) });

export const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
export const readNpy = (path: string): Tensor => parseNpy(readFileSync(path));

export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

export function oneHot(dims: number[], indexPerRow: number[]): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const row = data.length / dims[0]!;
  indexPerRow.forEach((c, n) => (data[n * row + c] = 1));
  return { data, dims };
}
