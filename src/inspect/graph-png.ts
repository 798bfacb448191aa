/** Rasterizing a diagram SVG to PNG (Node only: sharp renders SVG through librsvg). */
import { loadSharp } from '../sharp-module.ts';

export async function svgToPng(svg: string): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
