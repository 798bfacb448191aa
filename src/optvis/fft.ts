/**
 * A small mixed-radix FFT (Stockham autosort, decimation in frequency) for any length, and
 * the real 2-D inverse transform of a half spectrum with its exact adjoint, as the Fourier
 * parameterization needs them.
 *
 * Stage with radix r on sub-transforms of length L = m r, stride s (product of the radices
 * before it):
 *   y[q + s (r p + k)] = w_L^(p k) * sum_j x[q + s (p + j m)] w_r^(j k),   w_n = exp(-+2 pi i / n)
 * which is X[k + r k'] = sum_p w_m^(p k') [w_L^(p k) sum_j x[p + j m] w_r^(j k)] applied
 * recursively; the output comes out in natural order. Radix 4 and 2 have hand-written
 * butterflies, odd prime factors a direct O(r^2) DFT halved by symmetry (fine for the small
 * primes of image sizes: 224 = 4 * 4 * 2 * 7).
 */

interface Stage {
  radix: number;
  /** Sub-transform length L / radix. */
  m: number;
  /** Number of interleaved sub-transforms. */
  s: number;
  /** Forward twiddles w_L^(p k), k = 1..r-1, at [p (r - 1) + k - 1]. */
  twRe: Float64Array;
  twIm: Float64Array;
  /** cos and sin(2 pi j k / r) at [(j - 1) (r - 1)/2 + k - 1], j, k = 1..(r-1)/2 (odd radix only). */
  cosTable: Float64Array;
  sinTable: Float64Array;
}

function factorize(n: number): number[] {
  const out: number[] = [];
  while (n % 4 === 0) [out[out.length], n] = [4, n / 4];
  for (let p = 2; n > 1; p++) {
    if (p * p > n) p = n;
    while (n % p === 0) [out[out.length], n] = [p, n / p];
  }
  return out;
}

/** Complex FFT of one length; not reentrant (it keeps its scratch buffers). */
export class Fft {
  private readonly stages: Stage[] = [];
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly sr: Float64Array;
  private readonly si: Float64Array;
  private readonly dr: Float64Array;
  private readonly di: Float64Array;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, not ${n}`);
    let s = 1;
    let length = n;
    let maxRadix = 1;
    for (const radix of factorize(n)) {
      const m = length / radix;
      const twRe = new Float64Array(m * (radix - 1));
      const twIm = new Float64Array(m * (radix - 1));
      for (let p = 0; p < m; p++) {
        for (let k = 1; k < radix; k++) {
          const angle = (-2 * Math.PI * p * k) / length;
          twRe[p * (radix - 1) + k - 1] = Math.cos(angle);
          twIm[p * (radix - 1) + k - 1] = Math.sin(angle);
        }
      }
      const half = Math.max(0, (radix - 1) / 2);
      const table = (f: (a: number) => number) => Float64Array.from({ length: half * half }, (_, t) => f((2 * Math.PI * (Math.floor(t / half) + 1) * ((t % half) + 1)) / radix));
      this.stages.push({ radix, m, s, twRe, twIm, cosTable: table(Math.cos), sinTable: table(Math.sin) });
      s *= radix;
      length = m;
      maxRadix = Math.max(maxRadix, radix);
    }
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.sr = new Float64Array(maxRadix);
    this.si = new Float64Array(maxRadix);
    this.dr = new Float64Array(maxRadix);
    this.di = new Float64Array(maxRadix);
  }

  /**
   * In place: X[k] = sum_j x[j] exp(sign 2 pi i j k / n); sign -1 is the forward DFT, +1 the
   * inverse without the 1/n factor.
   */
  transform(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
    let [xr, xi, yr, yi] = [re, im, this.re, this.im];
    // Stored twiddles are the forward ones; the inverse uses their conjugates.
    const c = -sign;
    for (const { radix: r, m, s, twRe, twIm, cosTable, sinTable } of this.stages) {
      if (r === 2) {
        for (let p = 0; p < m; p++) {
          const wr = twRe[p]!, wi = c * twIm[p]!;
          for (let q = 0; q < s; q++) {
            const a = q + s * p, b = a + s * m;
            const dr = xr[a]! - xr[b]!, di = xi[a]! - xi[b]!;
            const o = q + s * 2 * p;
            yr[o] = xr[a]! + xr[b]!;
            yi[o] = xi[a]! + xi[b]!;
            yr[o + s] = dr * wr - di * wi;
            yi[o + s] = dr * wi + di * wr;
          }
        }
      } else if (r === 4) {
        for (let p = 0; p < m; p++) {
          const w1r = twRe[3 * p]!, w1i = c * twIm[3 * p]!;
          const w2r = twRe[3 * p + 1]!, w2i = c * twIm[3 * p + 1]!;
          const w3r = twRe[3 * p + 2]!, w3i = c * twIm[3 * p + 2]!;
          for (let q = 0; q < s; q++) {
            const i0 = q + s * p, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m;
            const t0r = xr[i0]! + xr[i2]!, t0i = xi[i0]! + xi[i2]!;
            const t1r = xr[i0]! - xr[i2]!, t1i = xi[i0]! - xi[i2]!;
            const t2r = xr[i1]! + xr[i3]!, t2i = xi[i1]! + xi[i3]!;
            // (x1 - x3) * w_4, w_4 = sign * i
            const dr = xr[i1]! - xr[i3]!, di = xi[i1]! - xi[i3]!;
            const t3r = -sign * di, t3i = sign * dr;
            const o = q + s * 4 * p;
            yr[o] = t0r + t2r;
            yi[o] = t0i + t2i;
            const x1r = t1r + t3r, x1i = t1i + t3i;
            yr[o + s] = x1r * w1r - x1i * w1i;
            yi[o + s] = x1r * w1i + x1i * w1r;
            const x2r = t0r - t2r, x2i = t0i - t2i;
            yr[o + 2 * s] = x2r * w2r - x2i * w2i;
            yi[o + 2 * s] = x2r * w2i + x2i * w2r;
            const x3r = t1r - t3r, x3i = t1i - t3i;
            yr[o + 3 * s] = x3r * w3r - x3i * w3i;
            yi[o + 3 * s] = x3r * w3i + x3i * w3r;
          }
        }
      } else {
        // Odd prime radix, pairing k with r - k: with s_j = x_j + x_(r-j), d_j = x_j - x_(r-j),
        // X_k, X_(r-k) = x_0 + sum_j s_j cos(2 pi j k / r) -+ sign i sum_j d_j sin(2 pi j k / r).
        const half = (r - 1) / 2;
        const { sr, si, dr, di } = this;
        for (let p = 0; p < m; p++) {
          for (let q = 0; q < s; q++) {
            const i0 = q + s * p;
            const a0r = xr[i0]!, a0i = xi[i0]!;
            let x0r = a0r, x0i = a0i;
            for (let j = 1; j <= half; j++) {
              const u = i0 + s * j * m, v = i0 + s * (r - j) * m;
              sr[j] = xr[u]! + xr[v]!;
              si[j] = xi[u]! + xi[v]!;
              dr[j] = xr[u]! - xr[v]!;
              di[j] = xi[u]! - xi[v]!;
              x0r += sr[j]!;
              x0i += si[j]!;
            }
            const o = q + s * r * p;
            yr[o] = x0r;
            yi[o] = x0i;
            for (let k = 1; k <= half; k++) {
              let ar = a0r, ai = a0i, br = 0, bi = 0;
              for (let j = 1; j <= half; j++) {
                const cs = cosTable[(j - 1) * half + k - 1]!, sn = sinTable[(j - 1) * half + k - 1]!;
                ar += sr[j]! * cs;
                ai += si[j]! * cs;
                br += dr[j]! * sn;
                bi += di[j]! * sn;
              }
              const pr = ar - sign * bi, pi = ai + sign * br;
              const mr = ar + sign * bi, mi = ai - sign * br;
              const t1 = p * (r - 1) + k - 1, t2 = p * (r - 1) + r - k - 1;
              const w1r = twRe[t1]!, w1i = c * twIm[t1]!, w2r = twRe[t2]!, w2i = c * twIm[t2]!;
              yr[o + s * k] = pr * w1r - pi * w1i;
              yi[o + s * k] = pr * w1i + pi * w1r;
              yr[o + s * (r - k)] = mr * w2r - mi * w2i;
              yi[o + s * (r - k)] = mr * w2i + mi * w2r;
            }
          }
        }
      }
      [xr, xi, yr, yi] = [yr, yi, xr, xi];
    }
    if (xr !== re) {
      re.set(xr);
      im.set(xi);
    }
  }
}

/**
 * The real 2-D inverse DFT of a half spectrum and its adjoint, for one h x w plane.
 * The spectrum has h x k complex entries, k = floor(w / 2) + 1, interleaved (re, im) at
 * [2 (ky k + kx)]. As a real-linear map of the spectrum:
 *
 *   x[y, x] = 1/(h w) sum_ky sum_kx m(kx) Re(X[ky, kx] exp(2 pi i (ky y / h + kx x / w)))
 *
 * with m(kx) = 1 for kx = 0 and (w even) kx = w/2, else 2: numpy's irfft2 with s = (h, w)
 * (the imaginary parts at kx = 0 and w/2 drop out, as they do there). Its adjoint is
 *
 *   G[ky, kx] = m(kx)/(h w) sum_y sum_x g[y, x] exp(-2 pi i (ky y / h + kx x / w))
 *
 * i.e. the forward real FFT of g weighted by m(kx)/(h w).
 */
export class RealFft2 {
  readonly k: number;
  private readonly rows: Fft;
  private readonly cols: Fft;
  private readonly lineRe: Float64Array;
  private readonly lineIm: Float64Array;
  private readonly colRe: Float64Array;
  private readonly colIm: Float64Array;
  /** The half spectrum transformed along y only, [h, k, 2]. */
  private readonly z: Float64Array;

  constructor(readonly h: number, readonly w: number) {
    this.k = Math.floor(w / 2) + 1;
    this.rows = new Fft(w);
    this.cols = new Fft(h);
    this.lineRe = new Float64Array(w);
    this.lineIm = new Float64Array(w);
    this.colRe = new Float64Array(h);
    this.colIm = new Float64Array(h);
    this.z = new Float64Array(h * this.k * 2);
  }

  /** The multiplicity m(kx) of a half-spectrum column. */
  multiplicity(kx: number): number {
    return kx === 0 || 2 * kx === this.w ? 1 : 2;
  }

  /** Complex transforms of length h down each half-spectrum column, `from` -> `to` (both [h, k, 2]), times factor(kx). */
  private columns(from: Float64Array, to: Float64Array, sign: -1 | 1, factor: (kx: number) => number): void {
    const { h, k, colRe, colIm } = this;
    for (let kx = 0; kx < k; kx++) {
      for (let y = 0; y < h; y++) {
        colRe[y] = from[2 * (y * k + kx)]!;
        colIm[y] = from[2 * (y * k + kx) + 1]!;
      }
      this.cols.transform(colRe, colIm, sign);
      const f = factor(kx);
      for (let y = 0; y < h; y++) {
        to[2 * (y * k + kx)] = colRe[y]! * f;
        to[2 * (y * k + kx) + 1] = colIm[y]! * f;
      }
    }
  }

  /**
   * spectrum [h, k, 2] -> image [h, w] (into `out`). Each row's full spectrum is Hermitian
   * (F[w - kx] = conj(Z[kx]), with the imaginary parts at kx = 0 and w/2 dropped, as the real
   * part drops them), so its inverse is real and two rows go through one complex transform:
   * ifft(F1 + i F2) = x1 + i x2.
   */
  inverse(spectrum: Float64Array, out: Float64Array): void {
    const { h, w, k, lineRe, lineIm, z } = this;
    this.columns(spectrum, z, 1, () => 1);
    const norm = 1 / (h * w);
    const nyquist = w % 2 === 0 ? k - 1 : -1;
    for (let y = 0; y < h; y += 2) {
      const y2 = y + 1 < h ? y + 1 : -1;
      for (let kx = 0; kx < k; kx++) {
        const a = 2 * (y * k + kx), b = 2 * (y2 * k + kx);
        const self = kx === 0 || kx === nyquist;
        const f1r = z[a]!, f1i = self ? 0 : z[a + 1]!;
        const f2r = y2 >= 0 ? z[b]! : 0, f2i = y2 >= 0 && !self ? z[b + 1]! : 0;
        // F1 + i F2 at kx, and at w - kx: conj(F1) + i conj(F2)
        lineRe[kx] = f1r - f2i;
        lineIm[kx] = f1i + f2r;
        if (!self) {
          lineRe[w - kx] = f1r + f2i;
          lineIm[w - kx] = f2r - f1i;
        }
      }
      this.rows.transform(lineRe, lineIm, 1);
      for (let x = 0; x < w; x++) out[y * w + x] = lineRe[x]! * norm;
      if (y2 >= 0) for (let x = 0; x < w; x++) out[y2 * w + x] = lineIm[x]! * norm;
    }
  }

  /**
   * image [h, w] -> spectrum [h, k, 2] (into `out`): the adjoint of `inverse`. Two real rows
   * per complex transform: with C = fft(g1 + i g2), G1[k] = (C[k] + conj(C[-k]))/2 and
   * G2[k] = (C[k] - conj(C[-k]))/(2i).
   */
  adjoint(image: Float64Array, out: Float64Array): void {
    const { h, w, k, lineRe, lineIm, z } = this;
    for (let y = 0; y < h; y += 2) {
      const y2 = y + 1 < h ? y + 1 : -1;
      for (let x = 0; x < w; x++) {
        lineRe[x] = image[y * w + x]!;
        lineIm[x] = y2 >= 0 ? image[y2 * w + x]! : 0;
      }
      this.rows.transform(lineRe, lineIm, -1);
      for (let kx = 0; kx < k; kx++) {
        const mirror = (w - kx) % w;
        const cr = lineRe[kx]!, ci = lineIm[kx]!, mr = lineRe[mirror]!, mi = lineIm[mirror]!;
        z[2 * (y * k + kx)] = (cr + mr) / 2;
        z[2 * (y * k + kx) + 1] = (ci - mi) / 2;
        if (y2 >= 0) {
          z[2 * (y2 * k + kx)] = (ci + mi) / 2;
          z[2 * (y2 * k + kx) + 1] = (mr - cr) / 2;
        }
      }
    }
    const norm = 1 / (h * w);
    this.columns(z, out, -1, (kx) => this.multiplicity(kx) * norm);
  }
}
