// Bilinear resampling of channel-major float maps, e.g. a 7x7 Grad-CAM map
// up to the 224x224 input it explains.
//
// Geometry is the "half-pixel centres" convention of PyTorch
// `F.interpolate(mode='bilinear', align_corners=False)` and OpenCV
// `cv2.resize(interpolation=INTER_LINEAR)`: output pixel o along an axis of
// length `out`, resampled from length `in`, reads the source coordinate
//
//   x = (o + 0.5) * in / out - 0.5,
//
// clamped to [0, in - 1] (a negative x reads pixel 0, one past the last pixel
// reads the last), and blends the two neighbours floor(x) and floor(x) + 1
// with weights 1 - frac(x) and frac(x). The 2-D result is the separable product
// of the two axes. For upsampling this equals both libraries (PyTorch when
// called with `size=`, where its scale is in / out; it interpolates in float32,
// this in float64, so results can differ in the last float32 bit). For
// downsampling it equals PyTorch without `antialias`: no low-pass filter.

interface AxisTaps {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly w: Float64Array; // weight of `hi`; `lo` gets 1 - w
}

function axisTaps(inSize: number, outSize: number): AxisTaps {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const x = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const i0 = Math.floor(x);
    lo[o] = i0;
    hi[o] = Math.min(i0 + 1, inSize - 1);
    w[o] = x - i0;
  }
  return { lo, hi, w };
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`resizeBilinear: ${name} must be a positive integer, got ${v}`);
}

/**
 * Resizes `channels` planes of `srcH x srcW` (layout [C, H, W], row-major) to
 * `dstH x dstW` with half-pixel-centre bilinear interpolation (see the file
 * comment). Equal sizes return an exact copy. `out` (default a new array) receives
 * the result, e.g. a buffer reused from call to call.
 */
export function resizeBilinear(
  src: Float32Array,
  srcH: number,
  srcW: number,
  dstH: number,
  dstW: number,
  channels = 1,
  out: Float32Array = new Float32Array(channels * dstH * dstW),
): Float32Array {
  checkDim('srcH', srcH);
  checkDim('srcW', srcW);
  checkDim('dstH', dstH);
  checkDim('dstW', dstW);
  checkDim('channels', channels);
  if (src.length !== channels * srcH * srcW) {
    throw new RangeError(`resizeBilinear: expected ${channels}x${srcH}x${srcW} = ${channels * srcH * srcW} values, got ${src.length}`);
  }
  if (out.length !== channels * dstH * dstW) throw new RangeError(`resizeBilinear: out holds ${out.length} values, not ${channels}x${dstH}x${dstW}`);
  if (srcH === dstH && srcW === dstW) {
    out.set(src);
    return out;
  }

  const ys = axisTaps(srcH, dstH);
  const xs = axisTaps(srcW, dstW);
  // Separable: each source row interpolated along x once (kept in doubles, so every output
  // is the same sum as the direct four-tap formula), then output rows between two of them.
  const rows = new Float64Array(srcH * dstW);
  for (let c = 0; c < channels; c++) {
    const plane = c * srcH * srcW;
    const outPlane = c * dstH * dstW;
    for (let y = 0; y < srcH; y++) {
      const row = plane + y * srcW;
      for (let ox = 0; ox < dstW; ox++) {
        const wx = xs.w[ox]!;
        rows[y * dstW + ox] = src[row + xs.lo[ox]!]! * (1 - wx) + src[row + xs.hi[ox]!]! * wx;
      }
    }
    for (let oy = 0; oy < dstH; oy++) {
      const top = ys.lo[oy]! * dstW;
      const bottom = ys.hi[oy]! * dstW;
      const wy = ys.w[oy]!;
      const at = outPlane + oy * dstW;
      for (let ox = 0; ox < dstW; ox++) out[at + ox] = rows[top + ox]! * (1 - wy) + rows[bottom + ox]! * wy;
    }
  }
  return out;
}
