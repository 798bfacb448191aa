/**
 * How images are fitted to a model's size: the resize modes, and where 'center-crop' cuts
 * (torchvision's Resize(round(size / cropFraction)) + CenterCrop(size), see image-file.ts).
 * Pure arithmetic, shared by the Node image loader (sharp) and the browser's (canvas).
 */

export type ResizeMode = 'stretch' | 'center-crop';
export const resizeModes: readonly ResizeMode[] = ['stretch', 'center-crop'];

/** The resized size and crop offset for 'center-crop'. */
export function centerCropPlan(
  original: { width: number; height: number },
  height: number,
  width: number,
  cropFraction = 0.875,
): { rw: number; rh: number; left: number; top: number } {
  const { width: w, height: h } = original;
  let rw: number;
  let rh: number;
  if (height / h >= width / w) {
    rh = Math.max(height, Math.round(height / cropFraction));
    rw = Math.max(width, Math.floor((rh * w) / h));
  } else {
    rw = Math.max(width, Math.round(width / cropFraction));
    rh = Math.max(height, Math.floor((rw * h) / w));
  }
  return { rw, rh, left: roundHalfEven((rw - width) / 2), top: roundHalfEven((rh - height) / 2) };
}

/** Python's round(): halves go to the even neighbour (torchvision's crop offsets use it). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
