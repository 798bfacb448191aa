/**
 * The pointing game (Zhang et al. 2016, "Top-down Neural Attention by Excitation Backprop",
 * ECCV, arXiv:1608.00507, section 5.1; IJCV 2018): a hit when the map's maximum lies in the
 * ground-truth region. Default as Quantus `PointingGame`: no tolerance, and a tie for the
 * maximum hits if any tied point lies in the region. `tolerance` gives TorchRay's protocol:
 * a hit when a pixel of the region lies strictly within `tolerance` pixels of the maximum
 * ((row - v)^2 + (col - u)^2 < tolerance^2; TorchRay uses 15 at the original image size and
 * the first arg max). The paper averages per class; a per-image hit list is returned here.
 * An empty region gives NaN. Cost: no forward pass.
 */
import { OptionError } from '../errors.ts';
import { checkRegions, regionMask, type Region } from './regions.ts';

export interface PointingOptions {
  /** TorchRay's tolerance in pixels (default 0: the maximum itself must lie in the region). */
  tolerance?: number;
}

export function pointingGame(maps: readonly Float32Array[], regions: readonly Region[], size: { height: number; width: number }, options: PointingOptions = {}): number[] {
  checkRegions(regions, maps.length);
  const tolerance = options.tolerance ?? 0;
  if (!(tolerance >= 0)) throw new OptionError(`pointing-game tolerance must be >= 0 pixels, not ${tolerance}`);
  const { height: H, width: W } = size;
  return maps.map((map, i) => {
    const mask = regionMask(regions[i]!, H, W);
    if (!mask.some((v) => v)) return NaN;
    let max = -Infinity;
    for (const v of map) if (v > max) max = v;
    if (tolerance === 0) return map.some((v, p) => v === max && mask[p] === 1) ? 1 : 0;
    const point = map.indexOf(max);
    const [v, u] = [Math.floor(point / W), point % W];
    const r = Math.ceil(tolerance);
    for (let y = Math.max(0, v - r); y <= Math.min(H - 1, v + r); y++) {
      for (let x = Math.max(0, u - r); x <= Math.min(W - 1, u + r); x++) {
        if ((y - v) ** 2 + (x - u) ** 2 < tolerance ** 2 && mask[y * W + x]) return 1;
      }
    }
    return 0;
  });
}
