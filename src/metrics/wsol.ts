/**
 * Boxes from maps for weakly supervised localization (Zhou et al. 2016, "Learning Deep
 * Features for Discriminative Localization", CVPR, arXiv:1512.04150, section 2: "we first
 * segment the regions of which the value is above 20% of the max value of the CAM. Then we
 * take the bounding box that covers the largest connected component"), and their IoU with
 * ground-truth boxes. As Choe et al. 2020 (clovaai/wsolevaluation): pixels strictly above
 * threshold * max, 8-connected components (OpenCV contours), the largest by pixel count
 * (wsolevaluation takes the largest contour area), the max IoU over the ground-truth boxes;
 * correct when IoU >= 0.5. Boxes are [x0, y0, x1, y1) in input pixels. No forward pass.
 */
import { OptionError } from '../errors.ts';
import { checkBox, type Box } from './regions.ts';

export interface WsolOptions {
  /** Fraction of the map's maximum (default 0.2). */
  threshold?: number;
}

/** The bounding box of the largest 8-connected component above threshold * max (undefined: none). */
export function boxFromMap(map: Float32Array, height: number, width: number, options: WsolOptions = {}): Box | undefined {
  const threshold = options.threshold ?? 0.2;
  if (!(threshold >= 0 && threshold < 1)) throw new OptionError(`WSOL threshold must be in [0, 1), not ${threshold}`);
  let max = -Infinity;
  for (const v of map) if (v > max) max = v;
  if (!(max > 0)) return undefined;
  const cut = threshold * max;
  const label = new Int32Array(map.length).fill(-1);
  let best: { size: number; box: [number, number, number, number] } | undefined;
  const stack: number[] = [];
  for (let start = 0; start < map.length; start++) {
    if (label[start] !== -1 || !(map[start]! > cut)) continue;
    label[start] = start;
    stack.push(start);
    let size = 0;
    const box: [number, number, number, number] = [width, height, 0, 0];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const [y, x] = [Math.floor(p / width), p % width];
      size++;
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x + 1);
      box[3] = Math.max(box[3], y + 1);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [yy, xx] = [y + dy, x + dx];
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (label[q] === -1 && map[q]! > cut) {
            label[q] = start;
            stack.push(q);
          }
        }
      }
    }
    if (!best || size > best.size) best = { size, box };
  }
  return best?.box;
}

/** Intersection over union of two [x0, y0, x1, y1) boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export interface WsolResult {
  /** Max IoU over the image's boxes (0 when the map yields no box). */
  values: number[];
  boxes: (Box | undefined)[];
}

export function wsolIou(maps: readonly Float32Array[], boxes: readonly (readonly Box[])[], size: { height: number; width: number }, options: WsolOptions = {}): WsolResult {
  if (boxes.length !== maps.length) throw new OptionError(`${boxes.length} box lists for ${maps.length} images: give the boxes of every image`);
  const predicted = maps.map((m) => boxFromMap(m, size.height, size.width, options));
  const values = predicted.map((p, i) => {
    const truth = boxes[i]!;
    if (truth.length === 0) return NaN;
    truth.forEach((b) => checkBox(b, size.height, size.width));
    return p ? Math.max(...truth.map((b) => iou(p, b))) : 0;
  });
  return { values, boxes: predicted };
}
