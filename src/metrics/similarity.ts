/**
 * Map similarities of the sanity checks (Adebayo et al. 2018, NeurIPS, arXiv:1810.03292,
 * section 3): Spearman rank correlation with average ranks for ties (scipy `spearmanr`,
 * Quantus' default), and SSIM (Wang et al. 2004, IEEE TIP, eq. 13) with an 11x11 Gaussian
 * window of sigma 1.5, K1 = 0.01, K2 = 0.03, over the valid window positions, as
 * tf.image.ssim (Xplique) computes it. Maps smaller than the window use one window over the
 * whole map.
 */

/** Ranks 1..n with ties averaged. */
export function ranks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const r = new Float64Array(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]!] === v[order[i]!]) j++;
    for (let k = i; k <= j; k++) r[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
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
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

/** SSIM of two [H, W] maps with values in a range of width `range` (default 1). */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, range = 1): number {
  const size = Math.min(11, height, width);
  const sigma = 1.5;
  const r = (size - 1) / 2;
  const taps = Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = taps.reduce((s, t) => s + t, 0) ** 2;
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  let sum = 0;
  let count = 0;
  for (let y0 = 0; y0 + size <= height; y0++) {
    for (let x0 = 0; x0 + size <= width; x0++) {
      let ma = 0;
      let mb = 0;
      let aa = 0;
      let bb = 0;
      let ab = 0;
      for (let dy = 0; dy < size; dy++) {
        for (let dx = 0; dx < size; dx++) {
          const w = (taps[dy]! * taps[dx]!) / total;
          const p = (y0 + dy) * width + x0 + dx;
          const [u, v] = [a[p]!, b[p]!];
          ma += w * u;
          mb += w * v;
          aa += w * u * u;
          bb += w * v * v;
          ab += w * u * v;
        }
      }
      const [va, vb, cov] = [aa - ma * ma, bb - mb * mb, ab - ma * mb];
      sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return sum / count;
}
