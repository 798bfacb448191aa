/**
 * NumPy .npy format (version 1.0/2.0/3.0): a magic string, a little header dict
 * ({'descr', 'fortran_order', 'shape'}) padded to a 64-byte boundary, then the data.
 * convlens reads float32/float64 little-endian C-order arrays and writes float32.
 */
import { ConvlensError } from '../errors.ts';
import type { Tensor } from './session.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** 2^29 float32 values (2 GB): more than any input batch. */
const MAX_ELEMENTS = 2 ** 29;

export class NpyError extends ConvlensError {
  override name = 'NpyError';
}

export function parseNpy(bytes: Uint8Array): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError('not a .npy file (bad magic): save it with numpy.save');
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new NpyError(`.npy format version ${major} is not one convlens reads (1, 2 or 3): save it with numpy.save`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) throw new NpyError('.npy is truncated inside its header: save it again');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new NpyError(`.npy header says ${headerLen} bytes but the file has ${bytes.length - start} after the preamble: the file is truncated`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyError('.npy header is malformed');
  if (fortran === 'True') throw new NpyError('.npy is in Fortran order: save a C-contiguous array (numpy.ascontiguousarray)');
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.some((p) => !/^\d+L?$/.test(p))) throw new NpyError(`.npy header has shape (${shapeText.slice(0, 80)}): dimensions must be non-negative integers; the file is corrupt`);
  const dims = parts.map((p) => Number.parseInt(p, 10));
  const n = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(n) || n > MAX_ELEMENTS) throw new NpyError(`.npy shape [${dims}] has ${n} values, more than the ${MAX_ELEMENTS} convlens reads: the file is corrupt or too large`);
  const offset = start + headerLen;
  const width = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!width) throw new NpyError(`.npy holds '${descr}'; convlens reads float32 ('<f4') or float64 ('<f8')`);
  if (bytes.length - offset < n * width) throw new NpyError(`.npy is truncated: shape [${dims}] needs ${n * width} data bytes, file has ${bytes.length - offset}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = width === 4 ? view.getFloat32(offset + 4 * i, true) : view.getFloat64(offset + 8 * i, true);
  return { data, dims };
}

export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  t.data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}
