// Colorbars: what the colours of a rendered explanation mean. A scale names the colormap
// and the values its two ends stand for; ticks mark min, max and 0 when 0 lies inside.
// Every rendered map keeps its scale, so a reader can tell what red is and whether a
// colour is zero. (Matplotlib's `colorbar` convention: a strip of the colormap with the
// data value at each end; a diverging map centred at 0 gets a symmetric range.)

import { colormapTable, type ColormapName } from './colormaps.ts';
import { createRgbImage, type RgbImage } from './image.ts';
import { resizeBilinear } from './resize.ts';
import { channelSum } from './render.ts';
import { extent } from './normalize.ts';

/**
 * The colours of a picture and the values they stand for. 'channels': an attribution
 * image shown per channel (grey for one channel, RGB for three), each channel's byte
 * 255 * (x - min) / (max - min): black = min, white = max.
 */
export interface ColorScale {
  colormap: ColormapName | 'channels';
  /** The value at the low end (colormap entry 0). */
  min: number;
  /** The value at the high end (colormap entry 255). */
  max: number;
}

/** The smallest and largest finite value; [0, 0] when there is none. */
export function valueRange(values: Float32Array): { min: number; max: number } {
  const { min, max } = extent(values);
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

/** The part of an explanation a scale depends on (structurally the library's Explanation). */
export interface Rendered {
  kind: 'map' | 'image';
  /** Unnormalized values; a map's at rawDims [h, w]. */
  raw: Float32Array;
  rawDims: readonly number[];
  /** What was coloured: a map's [H, W] values, an image's [C, H, W] values. */
  values: Float32Array;
  dims: readonly number[];
}

/**
 * The scale of an explanation as convlens renders it (viz renderAttribution): a heat map
 * is minMaxNormalize(bilinear(raw -> [H, W])) through `colormap`, so its ends are the
 * range of the upsampled raw map (within the raw range, equal to it without
 * upsampling); a signed attribution image is its sum over channels on coolwarm, centred
 * at 0 (ends -max|sum| and +max|sum|); any other image is min-max scaled over all channels.
 */
export function explanationScale(e: Rendered, colormap: ColormapName, signed = false): ColorScale {
  if (e.kind === 'image' && signed) return centredScale(channelSum(e.values, e.dims[1]! * e.dims[2]!), 'coolwarm');
  if (e.kind === 'image') return { colormap: 'channels', ...valueRange(e.values) };
  const [h, w] = e.rawDims as [number, number];
  const [H, W] = e.dims as [number, number];
  if (e.rawDims.length !== 2 || (h === H && w === W)) return { colormap, ...valueRange(e.raw) };
  // The upsampled map is only measured: into a buffer kept for the next map.
  if (upsampled.length !== H * W) upsampled = new Float32Array(H * W);
  return { colormap, ...valueRange(resizeBilinear(e.raw, h, w, H, W, 1, upsampled)) };
}

let upsampled = new Float32Array(0);

/** A signed map on a diverging colormap centred at 0: the ends are -max|x| and +max|x|. */
export function centredScale(values: Float32Array, colormap: ColormapName): ColorScale {
  const { min, max } = valueRange(values);
  const m = Math.max(Math.abs(min), Math.abs(max));
  return { colormap, min: -m, max: m };
}

/** A tick value as short text: 3 significant digits, exponent notation when tiny or huge. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

export interface Tick {
  value: number;
  /** Position along the bar, 0 = low end, 1 = high end. */
  at: number;
  label: string;
}

/** min, 0 (when strictly inside the range) and max; one tick for a constant map. */
export function colorbarTicks(scale: ColorScale): Tick[] {
  const { min, max } = scale;
  if (!(max > min)) return [{ value: min, at: 0, label: formatTick(min) }];
  const ticks: Tick[] = [{ value: min, at: 0, label: formatTick(min) }];
  if (min < 0 && max > 0) ticks.push({ value: 0, at: -min / (max - min), label: '0' });
  ticks.push({ value: max, at: 1, label: formatTick(max) });
  return ticks;
}

/** The 256-entry table of a scale's colours ('channels' as grey, black to white). */
function scaleTable(colormap: ColorScale['colormap']): Uint8Array {
  if (colormap !== 'channels') return colormapTable(colormap);
  const t = new Uint8Array(768);
  for (let i = 0; i < 256; i++) t.fill(i, 3 * i, 3 * i + 3);
  return t;
}

const hex = (t: Uint8Array, i: number) => `#${[t[3 * i]!, t[3 * i + 1]!, t[3 * i + 2]!].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

/** A CSS linear-gradient (left = low end) through `stops` evenly spaced table entries. */
export function cssGradient(colormap: ColorScale['colormap'], stops = 17): string {
  const t = scaleTable(colormap);
  const entries = Array.from({ length: stops }, (_, k) => Math.round((255 * k) / (stops - 1)));
  return `linear-gradient(to right, ${entries.map((i, k) => `${hex(t, i)} ${((100 * k) / (stops - 1)).toFixed(2).replace(/\.?0+$/, '')}%`).join(', ')})`;
}

/**
 * A horizontal strip of the colormap, low end on the left: column x shows entry
 * round(255 * x / (width - 1)) (entry 0 for a one-pixel strip).
 */
export function colorbarStrip(colormap: ColorScale['colormap'], width: number, height: number): RgbImage {
  const t = scaleTable(colormap);
  const out = createRgbImage(width, height);
  for (let x = 0; x < width; x++) {
    const i = width > 1 ? Math.round((255 * x) / (width - 1)) : 0;
    for (let y = 0; y < height; y++) out.data.set(t.subarray(3 * i, 3 * i + 3), 3 * (y * width + x));
  }
  return out;
}
