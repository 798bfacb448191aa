/** A Figure as PNG (Node only): the canvas embedded in an SVG with its text, rasterized by sharp (librsvg). */
import type { Figure } from './figure.ts';
import { escapeXml } from './graph-svg.ts';
import { encodePng } from '../viz/png.ts';
import { svgToPng } from './graph-png.ts';
import { bytesToBase64 } from '../base64.ts';

const FONT_FAMILY = "'DejaVu Sans', Verdana, Arial, sans-serif";

export async function figureSvg(figure: Figure): Promise<string> {
  const { canvas, labels } = figure;
  const png = bytesToBase64(await encodePng(canvas));
  const text = labels.map(
    (l) =>
      `<text x="${l.x}" y="${l.y}"${l.anchor && l.anchor !== 'start' ? ` text-anchor="${l.anchor}"` : ''}${l.size ? ` font-size="${l.size}"` : ''}${l.bold ? ' font-weight="bold"' : ''}>${escapeXml(l.text)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${canvas.width}" height="${canvas.height}" viewBox="0 0 ${canvas.width} ${canvas.height}" font-family="${escapeXml(FONT_FAMILY)}" fill="#1d2430">`,
    `<image x="0" y="0" width="${canvas.width}" height="${canvas.height}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>`,
    ...text,
    '</svg>',
  ].join('\n');
}

export async function figurePng(figure: Figure): Promise<Uint8Array> {
  return svgToPng(await figureSvg(figure));
}
