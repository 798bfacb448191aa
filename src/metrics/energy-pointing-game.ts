/**
 * The energy-based pointing game (Wang et al. 2020, "Score-CAM", CVPR Workshops,
 * arXiv:1910.01279, section 5.2): the share of the map's energy inside the region,
 *   proportion = sum_{p in region} L(p) / sum_p L(p),
 * on a non-negative map (negative values are clipped to 0, as Score-CAM's ReLU'd maps are);
 * NaN for a zero map. A map spread uniformly scores |region| / N. Cost: no forward pass.
 */
import { checkRegions, regionMask, type Region } from './regions.ts';

export function energyPointingGame(maps: readonly Float32Array[], regions: readonly Region[], size: { height: number; width: number }): number[] {
  checkRegions(regions, maps.length);
  return maps.map((map, i) => {
    const mask = regionMask(regions[i]!, size.height, size.width);
    let inside = 0;
    let total = 0;
    map.forEach((v, p) => {
      const e = v > 0 ? v : 0;
      total += e;
      if (mask[p]) inside += e;
    });
    return total > 0 ? inside / total : NaN;
  });
}
