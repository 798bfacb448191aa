/**
 * Readable figures of many small pictures (feature maps, kernels, layer outputs): tiles
 * upscaled by an integer factor (nearest neighbour, so every value stays a visible
 * square) to at least `minTile` pixels, a caption under each tile, a title, and a
 * colorbar with the value range. The layout is pure; `figure-png.ts` draws the text
 * (SVG through librsvg) and encodes the PNG.
 */
import { colorbarStrip, colorbarTicks, type ColorScale } from '../viz/colorbar.ts';
import { createRgbImage, type Rgb, type RgbImage } from '../viz/image.ts';

export interface TextLabel {
  /** Anchor point, text baseline. */
  x: number;
  y: number;
  text: string;
  anchor?: 'start' | 'middle' | 'end';
  size?: number;
  bold?: boolean;
}

/** A canvas and the words to write on it. */
export interface Figure {
  canvas: RgbImage;
  labels: TextLabel[];
}

/** Each pixel as a k x k square. */
export function upscaleNearest(image: RgbImage, k: number): RgbImage {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`upscaleNearest: factor must be a positive integer, got ${k}`);
  if (k === 1) return image;
  const out = createRgbImage(image.width * k, image.height * k);
  for (let y = 0; y < out.height; y++) {
    const src = Math.floor(y / k) * image.width;
    for (let x = 0; x < out.width; x++) out.data.set(image.data.subarray(3 * (src + Math.floor(x / k)), 3 * (src + Math.floor(x / k)) + 3), 3 * (y * out.width + x));
  }
  return out;
}

/** The smallest integer factor that makes a w x h tile at least `minTile` pixels on its longer side. */
export const upscaleFactor = (width: number, height: number, minTile: number): number => Math.max(1, Math.ceil(minTile / Math.max(width, height)));

/** Paste `image` into `canvas` at (x0, y0). */
function paste(canvas: RgbImage, image: RgbImage, x0: number, y0: number): void {
  for (let y = 0; y < image.height; y++) canvas.data.set(image.data.subarray(3 * y * image.width, 3 * (y + 1) * image.width), 3 * ((y0 + y) * canvas.width + x0));
}

/** What the colorbar under a figure says. */
export interface FigureScale {
  scale: ColorScale;
  /** Text before the bar, e.g. 'activation' or 'each tile: its min to its max'. */
  caption: string;
  /** Tick labels other than the scale's values (e.g. ['min', 'max'] when every tile has its own range). */
  tickLabels?: [low: string, high: string];
}

export interface TileFigureOptions {
  columns: number;
  /** Each tile is upscaled to at least this many pixels on its longer side (default 64). */
  minTile?: number;
  title?: string;
  /** One caption per tile, written under it. */
  captions?: readonly string[];
  colorbar?: FigureScale;
  background?: Rgb;
}

const FONT = 11;
const TITLE = 14;
const GAP = 6;
const MARGIN = 8;
const BAR_HEIGHT = 10;
const BAR_WIDTH = 192;

/** Equally sized tiles in a grid, upscaled and captioned, with a title and a colorbar. */
export function tileFigure(tiles: readonly RgbImage[], options: TileFigureOptions): Figure {
  const first = tiles[0];
  if (!first) throw new RangeError('tileFigure: no tiles');
  const { columns: nrow, minTile = 64, background = [255, 255, 255] } = options;
  const k = upscaleFactor(first.width, first.height, minTile);
  const tw = first.width * k;
  const th = first.height * k;
  const columns = Math.min(nrow, tiles.length);
  const rows = Math.ceil(tiles.length / columns);
  const captionHeight = options.captions ? FONT + 4 : 0;
  const cellWidth = Math.max(tw, options.captions ? 7 * Math.max(...options.captions.map((c) => c.length)) : 0);
  const top = MARGIN + (options.title ? TITLE + GAP : 0);
  const gridHeight = rows * (th + captionHeight) + (rows - 1) * GAP;
  const barBlock = options.colorbar ? GAP + FONT + 4 + BAR_HEIGHT + FONT + 6 : 0;
  const width = Math.max(2 * MARGIN + columns * cellWidth + (columns - 1) * GAP, options.colorbar ? 2 * MARGIN + BAR_WIDTH + 16 : 0, options.title ? 2 * MARGIN + Math.ceil(0.62 * TITLE * options.title.length) : 0);
  const canvas = createRgbImage(width, top + gridHeight + barBlock + MARGIN, { fill: background });
  const labels: TextLabel[] = [];
  if (options.title) labels.push({ x: MARGIN, y: MARGIN + TITLE - 2, text: options.title, size: TITLE, bold: true });
  tiles.forEach((tile, t) => {
    if (tile.width !== first.width || tile.height !== first.height) throw new RangeError(`tileFigure: every tile must be ${first.width}x${first.height}, got ${tile.width}x${tile.height}`);
    const x = MARGIN + (t % columns) * (cellWidth + GAP) + Math.floor((cellWidth - tw) / 2);
    const y = top + Math.floor(t / columns) * (th + captionHeight + GAP);
    paste(canvas, upscaleNearest(tile, k), x, y);
    const caption = options.captions?.[t];
    if (caption !== undefined) labels.push({ x: x + tw / 2, y: y + th + FONT + 1, text: caption, anchor: 'middle', size: FONT });
  });
  if (options.colorbar) labels.push(...drawColorbar(canvas, options.colorbar, MARGIN, top + gridHeight + GAP));
  return { canvas, labels };
}

/** A caption line, the colormap strip, and tick labels under it; returns the labels. */
export function drawColorbar(canvas: RgbImage, bar: FigureScale, x0: number, y0: number): TextLabel[] {
  const labels: TextLabel[] = [{ x: x0, y: y0 + FONT, text: bar.caption, size: FONT }];
  const yBar = y0 + FONT + 4;
  paste(canvas, colorbarStrip(bar.scale.colormap, BAR_WIDTH, BAR_HEIGHT), x0, yBar);
  const ticks = colorbarTicks(bar.scale);
  const texts = bar.tickLabels ? [{ at: 0, label: bar.tickLabels[0] }, { at: 1, label: bar.tickLabels[1] }] : ticks;
  for (const t of texts) {
    const x = x0 + t.at * (BAR_WIDTH - 1);
    canvas.data.fill(0, 3 * ((yBar + BAR_HEIGHT) * canvas.width + Math.round(x)), 3 * ((yBar + BAR_HEIGHT) * canvas.width + Math.round(x)) + 3);
    labels.push({ x, y: yBar + BAR_HEIGHT + FONT + 2, text: t.label, anchor: t.at === 0 ? 'start' : t.at === 1 ? 'end' : 'middle', size: FONT });
  }
  return labels;
}

/** Rows of pictures (one per layer, say), each under its own caption line; a title and a colorbar. */
export function rowsFigure(rows: readonly { caption: string; image: RgbImage }[], options: { title?: string; colorbar?: FigureScale; background?: Rgb } = {}): Figure {
  const background = options.background ?? [255, 255, 255];
  const top = MARGIN + (options.title ? TITLE + GAP : 0);
  const rowHeight = (r: { image: RgbImage }) => FONT + 4 + r.image.height + GAP;
  const gridHeight = rows.reduce((s, r) => s + rowHeight(r), 0);
  const barBlock = options.colorbar ? FONT + 4 + BAR_HEIGHT + FONT + 6 : 0;
  const longest = Math.max(0, ...rows.map((r) => r.caption.length));
  const width = Math.max(2 * MARGIN + Math.max(0, ...rows.map((r) => r.image.width)), 2 * MARGIN + Math.ceil(6.5 * longest), options.colorbar ? 2 * MARGIN + BAR_WIDTH + 16 : 0, options.title ? 2 * MARGIN + Math.ceil(0.62 * TITLE * options.title.length) : 0);
  const canvas = createRgbImage(width, top + gridHeight + barBlock + MARGIN, { fill: background });
  const labels: TextLabel[] = [];
  if (options.title) labels.push({ x: MARGIN, y: MARGIN + TITLE - 2, text: options.title, size: TITLE, bold: true });
  let y = top;
  for (const r of rows) {
    labels.push({ x: MARGIN, y: y + FONT, text: r.caption, size: FONT });
    paste(canvas, r.image, MARGIN, y + FONT + 4);
    y += rowHeight(r);
  }
  if (options.colorbar) labels.push(...drawColorbar(canvas, options.colorbar, MARGIN, y));
  return { canvas, labels };
}
