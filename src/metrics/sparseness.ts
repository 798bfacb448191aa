/**
 * Sparseness: the Gini index of |map| (Chalasani et al. 2020, "Concise Explanations of Neural
 * Networks using Adversarial Training", ICML, arXiv:1810.06583, section 4; Hurley & Rickard
 * 2009 for the index; Quantus `Sparseness`). With |a| sorted ascending, i = 1..n:
 *   G = sum_i (2i - n - 1) |a|_(i) / (n sum_i |a|_(i))
 * 0 for a uniform map, (n - 1) / n for a one-hot map. Higher is sparser. NaN for a zero map.
 */
export function gini(map: ArrayLike<number>): number {
  const a = Float64Array.from(map, Math.abs).sort();
  const n = a.length;
  let num = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    num += (2 * (i + 1) - n - 1) * a[i]!;
    total += a[i]!;
  }
  return total > 0 ? num / (n * total) : NaN;
}

export function sparseness(maps: readonly Float32Array[]): number[] {
  return maps.map(gini);
}
