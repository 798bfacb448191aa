/**
 * The HTML report: inline CSS, images as data: URLs or as files next to the report (large
 * runs: pages of inputs linked to each other), no other requests, readable on screen and
 * on paper. No Node imports, so it can render in a browser too.
 *
 * Layout that fits a screen: one row per input, its image and predictions sticky on the
 * left while its maps (grouped by method family, wrapping to the window's width) scroll
 * by; every map with its colorbar and value range; the methods table (what each method's
 * colours mean, papers as links), the model and the settings collapsible below.
 */
import type { ReportCell, ReportData, ReportImage, ReportInput, ReportPrediction } from './types.ts';
import { colorbarTicks, cssGradient, type ColorScale } from '../viz/colorbar.ts';
import { colourMeaning } from './legend.ts';
import { bytesToBase64 } from '../base64.ts';

/** Images narrower than this are scaled up (pixelated) to it; wider ones down to it. */
const THUMB_PX = 160;

/**
 * Text -> HTML text or attribute value (double- or single-quoted). Control characters, which
 * HTML does not allow, become U+FFFD (renderReportParts marks image places with one).
 */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => (c < ' ' || c === '\u007f' ? '\ufffd' : `&#${c.charCodeAt(0)};`));
}

const thousands = (n: number): string => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const percent = (p: number): string => (p > 0 && p < 0.0005 ? '&lt;0.1%' : `${(p * 100).toFixed(1)}%`);
const score = (s: number): string => (Math.abs(s) >= 1e5 ? s.toExponential(2) : (Math.abs(s) < 0.005 ? 0 : s).toFixed(2));
const millis = (ms: number): string => (ms < 10 ? ms.toFixed(1) : thousands(ms));

/** '2025-01-02T03:04:05.678Z' -> '2025-01-02 03:04:05 UTC'; anything else as given. */
const when = (iso: string): string => iso.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/, '$1 $2 UTC');


/** Width and height from a PNG's IHDR chunk, or undefined if the bytes are not a PNG. */
function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const ihdr = png.length >= 24 && png[12] === 0x49 && png[13] === 0x48 && png[14] === 0x44 && png[15] === 0x52;
  if (!ihdr) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** What the src attribute of an embedded PNG holds. */
type Embed = (png: Uint8Array) => string;

// Base64 has no character HTML would need escaped (a report embeds megabytes of it).
const dataUrl: Embed = (png) => `data:image/png;base64,${bytesToBase64(png)}`;

function img(image: ReportImage, alt: string, embed: Embed): string {
  const linked = !(image instanceof Uint8Array);
  const size = linked ? image : pngSize(image);
  const src = linked ? escapeHtml(encodeURI(image.src)) : embed(image);
  const small = size !== undefined && size.width < THUMB_PX;
  const dims = size ? ` width="${size.width}" height="${size.height}"` : '';
  return `<img class="thumb${small ? ' px' : ''}" src="${src}"${dims} loading="lazy" alt="${escapeHtml(alt)}" title="click to enlarge">`;
}

/** Links to the other pages of a report split into pages. */
function pager(page: NonNullable<ReportData['page']>, shown: number): string {
  const links = Array.from({ length: page.count }, (_, i) =>
    i + 1 === page.number ? `<strong>${i + 1}</strong>` : `<a href="${escapeHtml(page.href(i + 1))}">${i + 1}</a>`,
  ).join(' ');
  return `<nav class="pager">inputs ${page.firstInput + 1}-${page.firstInput + shown} of ${page.totalInputs}; page ${links}</nav>`;
}

function skippedSection(skipped: NonNullable<ReportData['skipped']>): string {
  return `<section class="wide"><h2>Skipped inputs (${skipped.length})</h2>
${table(['input', 'reason'], skipped.map((s) => [escapeHtml(s.name), escapeHtml(s.reason)]))}</section>`;
}

const table = (head: string[], rows: string[][], cls = ''): string =>
  `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` +
  `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

function modelSection(model: ReportData['model']): string {
  const max = Math.max(1, ...model.ops.map((o) => o.count));
  const ops = [...model.ops].sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
  const facts: [string, string][] = [
    ['name', escapeHtml(model.name)],
    ['input shape', `[${model.inputShape.map(escapeHtml).join(', ')}]`],
    ['opset', escapeHtml(model.opset)],
    ['parameters', thousands(model.parameters)],
  ];
  return `<section><details><summary><h2>Model</h2> ${escapeHtml(model.name)}, ${thousands(model.parameters)} parameters</summary>
<table class="kv">${facts.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>
${table(['op', 'count', ''], ops.map((o) => [escapeHtml(o.op), String(o.count), `<span class="bar" style="width:${((60 * o.count) / max).toFixed(1)}px"></span>`]), 'ops')}
</details></section>`;
}

function settingsSection(settings: Record<string, string>): string {
  const rows = Object.entries(settings).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`);
  return `<section><details><summary><h2>Settings</h2></summary><table class="kv">${rows.join('') || '<tr><td>(none)</td></tr>'}</table></details></section>`;
}

/** Text with its http(s) URLs as links (opened in a new tab; nothing is fetched by the page). */
function linkify(text: string): string {
  const parts = text.split(/(https?:\/\/[^\s<>"']*[^\s<>"'.,;:)])/);
  return parts.map((p, i) => (i % 2 === 1 ? `<a href="${escapeHtml(p)}" target="_blank" rel="noopener noreferrer">${escapeHtml(p)}</a>` : escapeHtml(p))).join('');
}

/** The colormap of a method's pictures (from its first cell with a scale). */
function colormapOf(id: string, inputs: ReportInput[]): string | undefined {
  for (const i of inputs) for (const c of i.cells) if (c.method === id && c.scale) return c.scale.colormap;
  return undefined;
}

/** CSS class of a colormap strip (names are ours: letters, digits and dashes only). */
const stripClass = (colormap: string) => `cm-${colormap.replace(/[^a-z0-9-]/gi, '')}`;

function methodsSection(data: ReportData): string {
  const rows = data.methods.map((m) => {
    const colormap = colormapOf(m.id, data.inputs);
    const colours = colormap ? `<span class="strip ${stripClass(colormap)}"></span>${escapeHtml(colourMeaning(m, colormap))}` : '';
    return [`<code>${escapeHtml(m.id)}</code>`, escapeHtml(m.summary), colours, linkify(m.paper), `<span class="num">${millis(m.ms)}&nbsp;ms</span>`];
  });
  return `<section class="wide"><details${data.methods.length <= 6 ? ' open' : ''}><summary><h2>Methods (${data.methods.length}): what they show, what the colours mean, papers, time</h2></summary>
${table(['id', 'what it shows', 'what the colours mean', 'paper', 'time'], rows, 'legend')}</details></section>`;
}

const predictions = (preds: ReportPrediction[]): string =>
  table(
    ['label', 'prob.', 'score'],
    preds.map((p) => [escapeHtml(p.label), `<span class="num">${percent(p.probability)}</span>`, `<span class="num">${score(p.score)}</span>`]),
    'preds',
  );

/** A colorbar: the colormap strip, the values at its ends, and 0 where it falls inside. */
export function colorbarHtml(scale: ColorScale): string {
  const ticks = colorbarTicks(scale).map((t) => {
    const where = t.at === 0 ? 'lo' : t.at === 1 ? 'hi' : 'mid';
    const style = where === 'mid' ? ` style="left:${(100 * t.at).toFixed(1)}%"` : '';
    // A 0 close to an end would overprint that end's number: its mark stays, its label goes to the title.
    const crowded = where === 'mid' && (t.at < 0.3 || t.at > 0.7);
    return `<span class="tick ${where}"${style} data-value="${t.value}"${crowded ? ' title="0"' : ''}>${crowded ? '' : escapeHtml(t.label)}</span>`;
  });
  const what = scale.colormap === 'channels' ? 'each colour channel from black (min) to white (max)' : `${escapeHtml(scale.colormap)} from min to max`;
  return `<div class="cbar" title="${what}" data-min="${scale.min}" data-max="${scale.max}"><span class="strip ${stripClass(scale.colormap)}"></span><span class="ticks">${ticks.join('')}</span></div>`;
}

function cell(c: ReportCell, input: ReportInput, embed: Embed): string {
  const target = c.label ?? (c.class !== undefined ? `class ${c.class}` : undefined);
  const caption =
    (c.layer !== undefined ? `<span class="layer" title="layer">${escapeHtml(c.layer)}</span>` : '') +
    (target !== undefined ? `<span class="cls" title="explained class${c.class !== undefined ? ` ${c.class}` : ''}">for ${escapeHtml(target)}</span>` : '');
  const alt = `${c.method} on ${input.name}${c.layer !== undefined ? ` at ${c.layer}` : ''}`;
  return `<figure class="cell"><figcaption class="method"><code>${escapeHtml(c.method)}</code></figcaption>${img(c.png, alt, embed)}${c.scale ? colorbarHtml(c.scale) : ''}${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

const familyTitle: Record<string, string> = { gradient: 'gradients', cam: 'class activation maps', perturbation: 'perturbation', relevance: 'relevance propagation', other: 'other' };

/** Method ids grouped by family, in the order the families first appear. */
function groups(data: ReportData, ids: string[]): [family: string, ids: string[]][] {
  const familyOf = new Map(data.methods.map((m) => [m.id, m.family ?? 'other']));
  const out = new Map<string, string[]>();
  for (const id of ids) {
    const f = familyOf.get(id) ?? 'other';
    out.set(f, [...(out.get(f) ?? []), id]);
  }
  return [...out.entries()];
}

function row(input: ReportInput, index: number, data: ReportData, ids: string[], embed: Embed): string {
  const first = `<div class="input"><figure>${img(input.png, input.name, embed)}<figcaption class="name">${escapeHtml(input.name)}</figcaption></figure>${predictions(input.predictions)}</div>`;
  const grouped = groups(data, ids).map(([family, members]) => {
    const figures = members.map((id) => {
      const cells = input.cells.filter((c) => c.method === id);
      return cells.length ? cells.map((c) => cell(c, input, embed)).join('') : `<figure class="cell"><figcaption class="method"><code>${escapeHtml(id)}</code></figcaption><span class="none">—</span></figure>`;
    });
    return `<div class="family"><h3>${escapeHtml(familyTitle[family] ?? family)}</h3><div class="cells">${figures.join('')}</div></div>`;
  });
  return `<article class="row" id="input-${index + 1}">${first}<div class="maps">${grouped.join('')}</div></article>`;
}

function gridSection(data: ReportData, embed: Embed): string {
  // Methods in data.methods order; cells of any other method still get a place, after them.
  const ids = data.methods.map((m) => m.id);
  for (const c of data.inputs.flatMap((i) => i.cells)) if (!ids.includes(c.method)) ids.push(c.method);
  const pages = data.page && data.page.count > 1 ? pager(data.page, data.inputs.length) : '';
  return `<section class="wide"><h2>Explanations</h2>
<p class="hint">One row per input, maps grouped by method family; under each map its colorbar with the value range (0 marked where it falls inside). What the colours mean per method: the Methods table below. Click an image to enlarge it.</p>${pages}
<div class="grid">
${data.inputs.map((input, i) => row(input, i, data, ids, embed)).join('\n')}
</div>${pages}</section>`;
}

/** One CSS rule per colormap the page uses: its strip as a gradient. */
function stripCss(data: ReportData): string {
  const used = new Set<string>();
  for (const i of data.inputs) for (const c of i.cells) if (c.scale) used.add(c.scale.colormap);
  return [...used].map((cm) => `.${stripClass(cm)} { background: ${cssGradient(cm as ColorScale['colormap'])}; }`).join('\n');
}

const CSS = `
:root { color-scheme: light; --thumb: ${THUMB_PX}px; --line: #dde1e6; --muted: #5f6b7a; --accent: #2f6fde; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px; background: #f7f8fa; color: #1d2430; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header h1 { margin: 0 0 2px; font-size: 1.5em; }
header p { margin: 0 0 12px; color: var(--muted); }
h2 { display: inline; font-size: 1.05em; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
h3 { font-size: .8em; margin: 0 0 4px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
main { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; max-width: 100%; }
section.wide { flex-basis: 100%; }
summary { cursor: pointer; }
details[open] > summary { margin-bottom: 8px; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { font-weight: 600; border-bottom: 2px solid var(--line); }
tbody tr + tr > * { border-top: 1px solid var(--line); }
table.kv th { color: var(--muted); font-weight: 500; white-space: nowrap; }
table.kv td { overflow-wrap: anywhere; max-width: 48ch; }
table.ops { margin-top: 10px; font-size: .85em; }
table.ops td, table.ops th { padding: 1px 8px; }
.bar { display: inline-block; height: 9px; background: var(--accent); border-radius: 2px; opacity: .7; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.legend td:nth-child(2) { max-width: 40ch; }
table.legend td:nth-child(3) { max-width: 52ch; font-size: .9em; }
table.legend td:nth-child(3) .strip { display: block; width: 120px; margin: 2px 0 4px; }
table.legend td:nth-child(4) { color: var(--muted); font-size: .85em; overflow-wrap: anywhere; max-width: 36ch; }
table.legend td:last-child { text-align: right; }
a { color: var(--accent); }
code { font: .85em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef1f5; padding: 1px 4px; border-radius: 3px; white-space: nowrap; }
.hint { margin: 4px 0 8px; color: var(--muted); font-size: .85em; }
.grid { display: flex; flex-direction: column; }
.row { display: grid; grid-template-columns: calc(var(--thumb) + 40px) minmax(0, 1fr); gap: 12px; padding: 10px 0; }
.row + .row { border-top: 1px solid var(--line); }
.row > .input { position: sticky; top: 0; align-self: start; background: #fff; z-index: 1; padding: 4px 0; }
.maps { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.cells { display: flex; flex-wrap: wrap; gap: 10px 12px; }
figure { margin: 0 0 6px; text-align: center; }
figure.cell { width: var(--thumb); margin: 0; }
figcaption { font-size: .85em; color: var(--muted); max-width: var(--thumb); margin: 2px auto 0; overflow-wrap: anywhere; }
figcaption.method { margin: 0 0 2px; color: inherit; }
figcaption.name { color: inherit; font-weight: 600; }
figcaption span { display: block; }
.layer { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.cls { color: #1d2430; }
img.thumb { display: block; margin: 0 auto; width: var(--thumb); height: auto; border: 1px solid var(--line); background: #fff; cursor: zoom-in; }
img.thumb.px { image-rendering: pixelated; }
img.thumb.big { width: calc(2 * var(--thumb)); cursor: zoom-out; position: relative; z-index: 2; }
.cbar { width: var(--thumb); margin: 3px auto 0; }
.strip { display: block; height: 8px; border: 1px solid var(--line); }
.ticks { display: block; position: relative; height: 1.2em; font-size: .75em; color: var(--muted); font-variant-numeric: tabular-nums; }
.tick { position: absolute; top: 0; white-space: nowrap; }
.tick.lo { left: 0; }
.tick.hi { right: 0; }
.tick.mid { transform: translateX(-50%); color: #1d2430; }
.tick.mid::before { content: ""; position: absolute; left: 50%; top: -5px; height: 5px; border-left: 1px solid #1d2430; }
table.preds { font-size: .85em; margin: 6px auto 0; }
table.preds td, table.preds th { padding: 1px 5px; }
table.preds td:first-child { max-width: 12ch; overflow-wrap: anywhere; }
table.preds td:not(:first-child) { text-align: right; }
.none { color: var(--muted); display: block; text-align: center; }
nav.pager { margin: 8px 0; color: var(--muted); }
nav.pager a, nav.pager strong { padding: 0 3px; }
@page { margin: 12mm; }
@media print {
  :root { --thumb: 100px; }
  body { background: #fff; padding: 0; font-size: 10px; }
  section { border: 0; padding: 0 0 12px; }
  .row > .input { position: static; }
  .row { break-inside: avoid; }
  img.thumb { cursor: auto; }
  .hint { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}`;

const JS = `document.addEventListener('click', (e) => { const t = e.target; if (t instanceof HTMLImageElement && t.classList.contains('thumb')) t.classList.toggle('big'); });`;

/** Whether any image is a file next to the report (the page's policy then allows them). */
const linksImages = (data: ReportData) => data.inputs.some((i) => !(i.png instanceof Uint8Array) || i.cells.some((c) => !(c.png instanceof Uint8Array)));

/** The whole report as one self-contained HTML document. */
export function renderReport(data: ReportData): string {
  return renderDocument(data, dataUrl);
}

/** A piece of a report to write: HTML text, or an embedded PNG to write as its base64 text. */
export type ReportPart = string | { png: Uint8Array };

/**
 * The report as pieces to write one after another: the document renderReport returns, but
 * each embedded image left as its PNG bytes where its base64 text goes. A page of 32
 * inputs embeds 13 MB of base64; built as one string it is copied several times (each
 * nested join, then the UTF-8 encoding for the file), written piece by piece it is not.
 */
export function renderReportParts(data: ReportData): ReportPart[] {
  const images: Uint8Array[] = [];
  // Each image's place is marked by its index between two U+0001 (escapeHtml keeps them out of text).
  const html = renderDocument(data, (png) => `data:image/png;base64,\u0001${images.push(png) - 1}\u0001`);
  return html.split('\u0001').map((text, i) => (i % 2 === 1 ? { png: images[Number(text)]! } : text));
}

function renderDocument(data: ReportData, embed: Embed): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:${linksImages(data) ? " 'self' file:" : ''}; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}
${stripCss(data)}</style>
</head>
<body>
<header><h1>${escapeHtml(data.title)}</h1><p>generated <time datetime="${escapeHtml(data.generated)}">${escapeHtml(when(data.generated))}</time> by convlens</p></header>
<main>
${gridSection(data, embed)}
${methodsSection(data)}
${modelSection(data.model)}
${settingsSection(data.settings)}
${data.skipped?.length ? skippedSection(data.skipped) : ''}
</main>
<script>${JS}</script>
</body>
</html>
`;
}
