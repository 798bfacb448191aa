/**
 * Complexity: the entropy of the map's fractional contributions (Bhatt et al. 2020,
 * "Evaluating and Aggregating Feature-based Model Explanations", IJCAI, arXiv:2005.00631,
 * definition 4; Quantus `Complexity`):
 *   p_i = |a_i| / sum_j |a_j|,   H = -sum_i p_i ln p_i
 * 0 for a one-hot map, ln n for a uniform one. Lower is simpler. NaN for a zero map.
 */
export function entropy(map: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < map.length; i++) total += Math.abs(map[i]!);
  if (!(total > 0)) return NaN;
  let h = 0;
  for (let i = 0; i < map.length; i++) {
    const p = Math.abs(map[i]!) / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

export function complexity(maps: readonly Float32Array[]): number[] {
  return maps.map(entropy);
}
