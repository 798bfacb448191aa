/**
 * Feature maps as pictures: a layer's activations for one image, tiled into a grid, and
 * the classic "layer outputs" figure (the first channels of several layers, one row each).
 *
 * The grid follows torchvision.utils.make_grid applied to `maps.unsqueeze(1)` (each
 * channel a grey image): tile k of K sits at
 *   x = padding + (k % cols) * (w + padding),  y = padding + floor(k / cols) * (h + padding),
 * cols = min(nrow, K), rows = ceil(K / cols); the canvas is cols * (w + padding) + padding
 * wide and rows * (h + padding) + padding high, filled with padValue wherever no tile is.
 * Normalization is make_grid's `norm_ip`, (x - lo) / max(hi - lo, 1e-5), with (lo, hi)
 * the min and max of each map ('per-map' = normalize=True, scale_each=True) or of all maps
 * ('per-layer' = normalize=True, scale_each=False). The pad is written after normalizing,
 * so padValue is in output units. One deliberate difference: make_grid returns a single
 * image bare, here a single map is padded like any other (as viz's `grid` does).
 */
import { OptionError } from '../errors.ts';
import type { GradientEngine } from '../autodiff/engine.ts';
import type { Tensor } from '../runtime/session.ts';
import { LayerError, resolveLayers, type LayerInfo, type LayerRef } from '../targets/layers.ts';
import { applyColormap, type ColormapName } from '../viz/colormaps.ts';
import { createRgbImage, type Rgb, type RgbImage } from '../viz/image.ts';
import { grid } from '../viz/render.ts';
import { rowsFigure, tileFigure, type Figure } from './figure.ts';

export interface FeatureMapSet {
  layer: LayerInfo;
  /** Row of the image in the batch. */
  image: number;
  /** The selected maps, dims [K, h, w], in `channels` order. */
  maps: Tensor;
  /** Channel index in the layer of each map. */
  channels: number[];
  /** Mean activation of each map (what `topK` ranks by). */
  means: number[];
}

export interface FeatureMapOptions {
  /** Only the k channels with the largest mean activation, most active first (ties: lower index first). */
  topK?: number;
  /** Only these channels, in this order. */
  channels?: readonly number[];
}

/** 2-D maps of a [N, C, ...spatial] layer: [N, C, L] as 1 x L, [N, C, H, W] as H x W. */
function mapSize(layer: LayerInfo): [number, number] {
  const s = layer.shape;
  if (s.length === 3) return [1, s[2]!];
  if (s.length === 4) return [s[2]!, s[3]!];
  throw new LayerError(`layer '${layer.tensor}' has shape [${s.join(', ')}]: feature-map grids need 1-D or 2-D maps ([N, C, L] or [N, C, H, W])`);
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new OptionError(`${name} must be an integer >= ${min}, got ${v}`);
}

function selectChannels(layer: LayerInfo, means: readonly number[], options: FeatureMapOptions): number[] {
  const count = means.length;
  if (options.channels) {
    for (const c of options.channels) {
      if (!Number.isInteger(c) || c < 0 || c >= count) {
        throw new OptionError(`channel ${c} is out of range for layer '${layer.tensor}': it has ${count} channels (0..${count - 1})`);
      }
    }
    return [...options.channels];
  }
  const all = Array.from({ length: count }, (_, c) => c);
  if (options.topK === undefined) return all;
  // Array.prototype.sort is stable: equal means keep the lower index first.
  return all.sort((a, b) => means[b]! - means[a]!).slice(0, options.topK);
}

/**
 * Each requested layer's activation for each image (layer-major: all images of the first
 * layer, then the next layer), from one forward run. A `topK` larger than a layer's
 * channel count gives all its channels.
 */
export async function featureMaps(
  engine: GradientEngine,
  images: Tensor,
  layers: readonly LayerRef[] | 'all',
  options: FeatureMapOptions = {},
): Promise<FeatureMapSet[]> {
  if (options.topK !== undefined) checkCount('topK', options.topK, 1);
  if (options.topK !== undefined && options.channels) throw new OptionError('give either topK or channels, not both');
  const s = await engine.specialize([1, ...images.dims.slice(1)]);
  const resolved = resolveLayers(s, layers);
  const sizes = resolved.map(mapSize);
  const { exposed } = await engine.run(images, { expose: resolved.map((l) => l.tensor) });
  const n = images.dims[0]!;
  const out: FeatureMapSet[] = [];
  resolved.forEach((layer, li) => {
    const act = exposed[layer.tensor]!;
    const [h, w] = sizes[li]!;
    const count = layer.shape[1]!;
    const plane = h * w;
    for (let image = 0; image < n; image++) {
      const base = image * count * plane;
      const means = Array.from({ length: count }, (_, c) => {
        let sum = 0;
        for (let i = base + c * plane; i < base + (c + 1) * plane; i++) sum += act.data[i]!;
        return sum / plane;
      });
      const channels = selectChannels(layer, means, options);
      const data = new Float32Array(channels.length * plane);
      channels.forEach((c, k) => data.set(act.data.subarray(base + c * plane, base + (c + 1) * plane), k * plane));
      out.push({ layer, image, maps: { data, dims: [channels.length, h, w] }, channels, means: channels.map((c) => means[c]!) });
    }
  });
  return out;
}

export type GridNormalize = 'per-map' | 'per-layer' | 'none';

export interface GridOptions {
  /** Tiles per row (make_grid's `nrow`). */
  nrow?: number;
  padding?: number;
  /** Default 'per-map' (make_grid's default is no normalization, i.e. 'none'). */
  normalize?: GridNormalize;
  /** A label per map (channel indices), drawn by `renderGrid`. */
  channels?: readonly number[];
  padValue?: number;
}

/** A single-channel grid and where its tiles are. */
export interface FloatGrid {
  data: Float32Array;
  height: number;
  width: number;
  count: number;
  columns: number;
  tileHeight: number;
  tileWidth: number;
  padding: number;
  labels?: readonly number[];
}

function extent(v: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  return [lo, hi];
}

/** make_grid's norm_ip, (x - lo) / max(hi - lo, 1e-5), per map or with one extent for all. */
function normalized(data: Float32Array, plane: number, mode: 'per-map' | 'per-layer'): Float32Array {
  const out = new Float32Array(data.length);
  const whole = mode === 'per-layer' ? extent(data) : undefined;
  for (let from = 0; from < data.length; from += plane) {
    const map = data.subarray(from, from + plane);
    const [lo, hi] = whole ?? extent(map);
    const d = Math.max(hi - lo, 1e-5);
    map.forEach((v, i) => (out[from + i] = (v - lo) / d));
  }
  return out;
}

function mapsDims(maps: Tensor): [number, number, number] {
  const [k, h, w] = maps.dims;
  if (maps.dims.length !== 3 || !k || !h || !w || maps.data.length !== k * h * w) {
    throw new RangeError(`makeGrid: maps must be [K, h, w] with K, h, w >= 1 (${maps.data.length} values, dims [${maps.dims.join(', ')}])`);
  }
  return [k, h, w];
}

/** Maps [K, h, w] tiled into one grid, as torchvision's make_grid (see the file comment). */
export function makeGrid(maps: Tensor, options: GridOptions = {}): FloatGrid {
  const { nrow = 8, padding = 2, normalize = 'per-map', padValue = 0 } = options;
  const [k, h, w] = mapsDims(maps);
  checkCount('nrow', nrow, 1);
  checkCount('padding', padding, 0);
  if (options.channels && options.channels.length !== k) throw new OptionError(`makeGrid: ${options.channels.length} channel labels for ${k} maps`);
  const plane = h * w;
  const values = normalize === 'none' ? maps.data : normalized(maps.data, plane, normalize);
  const columns = Math.min(nrow, k);
  const width = columns * (w + padding) + padding;
  const height = Math.ceil(k / columns) * (h + padding) + padding;
  const data = new Float32Array(width * height).fill(padValue);
  for (let t = 0; t < k; t++) {
    const x0 = padding + (t % columns) * (w + padding);
    const y0 = padding + Math.floor(t / columns) * (h + padding);
    for (let y = 0; y < h; y++) data.set(values.subarray(t * plane + y * w, t * plane + (y + 1) * w), (y0 + y) * width + x0);
  }
  const grid: FloatGrid = { data, height, width, count: k, columns, tileHeight: h, tileWidth: w, padding };
  if (options.channels) grid.labels = [...options.channels];
  return grid;
}

/** 3x5 digits, one octal digit per row (top first), bit 4 = the left pixel. */
const DIGITS = [0o75557, 0o26227, 0o71747, 0o71717, 0o55711, 0o74717, 0o74757, 0o71111, 0o75757, 0o75717];

/** White digits in a black box at (x0, y0); skipped when the box does not fit the tile. */
function drawLabel(image: RgbImage, x0: number, y0: number, tileWidth: number, tileHeight: number, label: number): void {
  const text = String(label);
  const boxWidth = 4 * text.length + 1;
  if (boxWidth > tileWidth || 7 > tileHeight) return;
  const paint = (x: number, y: number, v: number) => image.data.fill(v, 3 * ((y0 + y) * image.width + x0 + x), 3 * ((y0 + y) * image.width + x0 + x + 1));
  for (let y = 0; y < 7; y++) for (let x = 0; x < boxWidth; x++) paint(x, y, 0);
  [...text].forEach((ch, i) => {
    const glyph = DIGITS[Number(ch)]!;
    for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) if ((glyph >> (3 * (4 - r))) & (4 >> c)) paint(1 + 4 * i + c, 1 + r, 255);
  });
}

/** A grid coloured by a colormap (values in [0, 1]), with its labels in each tile's top-left corner. */
export function renderGrid(grid: FloatGrid, options: { colormap?: ColormapName; labels?: boolean } = {}): RgbImage {
  const image = applyColormap(grid.data, grid.width, grid.height, options.colormap ?? 'viridis');
  if (options.labels === false || !grid.labels) return image;
  const { columns, tileWidth: w, tileHeight: h, padding } = grid;
  grid.labels.forEach((label, t) => drawLabel(image, padding + (t % columns) * (w + padding), padding + Math.floor(t / columns) * (h + padding), w, h, label));
  return image;
}

/**
 * Nearest-neighbour resize of maps [K, h, w] to [K, H, W]: output pixel (y, x) reads
 * (floor(y * h / H), floor(x * w / W)), PyTorch's F.interpolate(mode='nearest').
 */
function resizeNearest(maps: Tensor, height: number, width: number): Tensor {
  const [k, h, w] = maps.dims as [number, number, number];
  if (h === height && w === width) return maps;
  const data = new Float32Array(k * height * width);
  for (let t = 0; t < k; t++) {
    for (let y = 0; y < height; y++) {
      const row = t * h * w + Math.floor((y * h) / height) * w;
      for (let x = 0; x < width; x++) data[(t * height + y) * width + x] = maps.data[row + Math.floor((x * w) / width)]!;
    }
  }
  return { data, dims: [k, height, width] };
}

export interface LayerOutputsOptions {
  /** The first this many channels of each layer. */
  channels?: number;
  /** Display height of every tile; default the tallest layer's map height. */
  height?: number;
  /** With no `height`: at least this tall (small maps are upscaled, nearest neighbour). */
  minHeight?: number;
  padding?: number;
  normalize?: GridNormalize;
  colormap?: ColormapName;
  /** Colour between tiles, default white (kept apart from any colormap's 0, which ReLU maps are full of). */
  background?: Rgb;
}

export interface LayerOutputsFigure {
  image: RgbImage;
  /** Per row: its layer (for the caption), its top y and tile height, the channels shown. */
  rows: { layer: LayerInfo; y: number; height: number; channels: number[] }[];
}

/**
 * The classic figure of what successive layers see: for each image, one row per layer
 * holding its first `channels` maps, every tile scaled (nearest neighbour) to the same
 * display height so rows align; widths follow each map's aspect ratio. Each row is a viz
 * `grid` of coloured tiles; rows are stacked sharing the padding between them.
 */
export async function layerOutputs(
  engine: GradientEngine,
  images: Tensor,
  layers: readonly LayerRef[] | 'all',
  options: LayerOutputsOptions = {},
): Promise<LayerOutputsFigure[]> {
  const { channels = 8, padding = 2, normalize = 'per-map', colormap = 'viridis', background = [255, 255, 255] } = options;
  checkCount('channels', channels, 1);
  checkCount('padding', padding, 0);
  if (options.height !== undefined) checkCount('height', options.height, 1);
  const sets = await featureMaps(engine, images, layers);
  const height = options.height ?? Math.max(options.minHeight ?? 1, ...sets.map((f) => f.maps.dims[1]!));
  const figures: LayerOutputsFigure[] = [];
  for (let image = 0; image < images.dims[0]!; image++) {
    const rows = sets.filter((f) => f.image === image).map((f) => {
      const [count, h, w] = f.maps.dims as [number, number, number];
      const k = Math.min(channels, count);
      const width = Math.max(1, Math.round((w * height) / h));
      const tiles = resizeNearest({ data: f.maps.data.subarray(0, k * h * w), dims: [k, h, w] }, height, width);
      const plane = height * width;
      const values = normalize === 'none' ? tiles.data : normalized(tiles.data, plane, normalize);
      const coloured = Array.from({ length: k }, (_, t) => applyColormap(values.subarray(t * plane, (t + 1) * plane), width, height, colormap));
      return { layer: f.layer, channels: f.channels.slice(0, k), strip: grid(coloured, { columns: k, padding, background }) };
    });
    const width = Math.max(...rows.map((r) => r.strip.width));
    const out = createRgbImage(width, padding + rows.length * (height + padding), { fill: background });
    figures.push({
      image: out,
      rows: rows.map((r, i) => {
        const y = padding + i * (height + padding);
        // Each strip without its top pad row(s): the previous strip's bottom pad serves.
        for (let sy = padding; sy < r.strip.height; sy++) out.data.set(r.strip.data.subarray(3 * sy * r.strip.width, 3 * (sy + 1) * r.strip.width), 3 * (y - padding + sy) * width);
        return { layer: r.layer, y, height, channels: r.channels };
      }),
    });
  }
  return figures;
}

const tileScaling: Record<GridNormalize, string> = {
  'per-map': 'each tile from its own min to its max',
  'per-layer': 'one range for all tiles',
  none: 'values as they are, clipped to [0, 1]',
};

/**
 * One layer's maps for one image as a readable figure: tiles upscaled to at least
 * `minTile` pixels, the channel index under each tile, the layer's name and shape as
 * the title, and a colorbar saying what the colours stand for.
 */
export function featureFigure(set: FeatureMapSet, options: { columns?: number; normalize?: GridNormalize; colormap?: ColormapName; minTile?: number; title?: string } = {}): Figure {
  const { columns = 8, normalize = 'per-map', colormap = 'viridis', minTile = 64 } = options;
  const [k, h, w] = mapsDims(set.maps);
  const plane = h * w;
  const values = normalize === 'none' ? set.maps.data : normalized(set.maps.data, plane, normalize);
  const tiles = Array.from({ length: k }, (_, t) => applyColormap(values.subarray(t * plane, (t + 1) * plane), w, h, colormap));
  const [lo, hi] = extent(set.maps.data);
  const scale = normalize === 'per-layer' ? { colormap, min: lo, max: Math.max(hi, lo + 1e-5) } : { colormap, min: 0, max: 1 };
  const { layer } = set;
  return tileFigure(tiles, {
    columns,
    minTile,
    title: options.title ?? `${layer.tensor}  [${layer.shape.slice(1).join('x')}]  ${layer.op}: ${k} of ${layer.shape[1]} channels`,
    captions: set.channels.map(String),
    colorbar: { scale, caption: `activation (${tileScaling[normalize]}); tile label = channel`, ...(normalize === 'per-map' ? { tickLabels: ['min', 'max'] as [string, string] } : {}) },
  });
}

/** The layer-outputs figure with each row under its layer's name, shape and channels, and a colorbar. */
export function layerOutputsCaptioned(figure: LayerOutputsFigure, options: { normalize?: GridNormalize; colormap?: ColormapName; title?: string } = {}): Figure {
  const { normalize = 'per-map', colormap = 'viridis' } = options;
  const { image } = figure;
  const rows = figure.rows.map((r) => {
    const strip = createRgbImage(image.width, r.height, { data: image.data.slice(3 * r.y * image.width, 3 * (r.y + r.height) * image.width) });
    const last = r.channels.at(-1) ?? 0;
    return { caption: `${r.layer.tensor}  [${r.layer.shape.slice(1).join('x')}]  ${r.layer.op}, channels 0-${last} of ${r.layer.shape[1]}`, image: strip };
  });
  return rowsFigure(rows, {
    ...(options.title ? { title: options.title } : {}),
    colorbar: { scale: { colormap, min: 0, max: 1 }, caption: `activation (${tileScaling[normalize]})`, ...(normalize !== 'none' ? { tickLabels: ['min', 'max'] as [string, string] } : {}) },
  });
}
