/**
 * The HTML report: inline CSS, images as data: URLs or as files next to the report (large
 * runs: pages of inputs linked to each other), no other requests, readable on screen and
 * on paper. No Node imports, so it can render in a browser too.
 */
import type { ReportCell, ReportData, ReportImage, ReportInput, ReportMethod, ReportPrediction } from './types.ts';

/** Images narrower than this are scaled up (pixelated) to it; wider ones down to it. */
const THUMB_PX = 160;

/** Text -> HTML text or attribute value (double- or single-quoted). */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const thousands = (n: number): string => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const percent = (p: number): string => (p > 0 && p < 0.0005 ? '&lt;0.1%' : `${(p * 100).toFixed(1)}%`);
const score = (s: number): string => (Math.abs(s) >= 1e5 ? s.toExponential(2) : (Math.abs(s) < 0.005 ? 0 : s).toFixed(2));
const millis = (ms: number): string => (ms < 10 ? ms.toFixed(1) : thousands(ms));

/** '2025-01-02T03:04:05.678Z' -> '2025-01-02 03:04:05 UTC'; anything else as given. */
const when = (iso: string): string => iso.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/, '$1 $2 UTC');

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Width and height from a PNG's IHDR chunk, or undefined if the bytes are not a PNG. */
function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const ihdr = png.length >= 24 && png[12] === 0x49 && png[13] === 0x48 && png[14] === 0x44 && png[15] === 0x52;
  if (!ihdr) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function img(image: ReportImage, alt: string): string {
  const linked = !(image instanceof Uint8Array);
  const size = linked ? image : pngSize(image);
  const src = linked ? encodeURI(image.src) : `data:image/png;base64,${base64(image)}`;
  const small = size !== undefined && size.width < THUMB_PX;
  const dims = size ? ` width="${size.width}" height="${size.height}"` : '';
  return `<img class="thumb${small ? ' px' : ''}" src="${escapeHtml(src)}"${dims} loading="lazy" alt="${escapeHtml(alt)}" title="click to enlarge">`;
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
  return `<section><h2>Model</h2>
<table class="kv">${facts.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>
${table(['op', 'count', ''], ops.map((o) => [escapeHtml(o.op), String(o.count), `<span class="bar" style="width:${((60 * o.count) / max).toFixed(1)}px"></span>`]), 'ops')}
</section>`;
}

function settingsSection(settings: Record<string, string>): string {
  const rows = Object.entries(settings).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`);
  return `<section><h2>Settings</h2><table class="kv">${rows.join('') || '<tr><td>(none)</td></tr>'}</table></section>`;
}

const methodsSection = (methods: ReportMethod[]): string =>
  `<section class="wide"><h2>Methods</h2>${table(
    ['id', 'paper', 'what it shows', 'time'],
    methods.map((m) => [`<code>${escapeHtml(m.id)}</code>`, escapeHtml(m.paper), escapeHtml(m.summary), `<span class="num">${millis(m.ms)}&nbsp;ms</span>`]),
    'legend',
  )}</section>`;

const predictions = (preds: ReportPrediction[]): string =>
  table(
    ['label', 'prob.', 'score'],
    preds.map((p) => [escapeHtml(p.label), `<span class="num">${percent(p.probability)}</span>`, `<span class="num">${score(p.score)}</span>`]),
    'preds',
  );

function cell(c: ReportCell, input: ReportInput): string {
  const target = c.label ?? (c.class !== undefined ? `class ${c.class}` : undefined);
  const caption =
    (c.layer !== undefined ? `<span class="layer" title="layer">${escapeHtml(c.layer)}</span>` : '') +
    (target !== undefined ? `<span class="cls" title="explained class${c.class !== undefined ? ` ${c.class}` : ''}">for ${escapeHtml(target)}</span>` : '');
  const alt = `${c.method} on ${input.name}${c.layer !== undefined ? ` at ${c.layer}` : ''}`;
  return `<figure>${img(c.png, alt)}${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

function row(input: ReportInput, index: number, ids: string[]): string {
  const first = `<th scope="row"><figure>${img(input.png, input.name)}<figcaption class="name">${escapeHtml(input.name)}</figcaption></figure>${predictions(input.predictions)}</th>`;
  const rest = ids.map((id) => {
    const cells = input.cells.filter((c) => c.method === id);
    return `<td>${cells.length ? cells.map((c) => cell(c, input)).join('') : '<span class="none">—</span>'}</td>`;
  });
  return `<tr id="input-${index + 1}">${first}${rest.join('')}</tr>`;
}

function gridSection(data: ReportData): string {
  // Methods in data.methods order; cells of any other method still get a column, after them.
  const ids = data.methods.map((m) => m.id);
  for (const c of data.inputs.flatMap((i) => i.cells)) if (!ids.includes(c.method)) ids.push(c.method);
  const head = `<tr><th scope="col">input</th>${ids.map((id) => `<th scope="col"><code>${escapeHtml(id)}</code></th>`).join('')}</tr>`;
  return `<section class="wide"><h2>Explanations</h2>
<p class="hint">Click an image to enlarge it.</p>${data.page && data.page.count > 1 ? pager(data.page, data.inputs.length) : ''}
<table class="grid"><thead>${head}</thead><tbody>
${data.inputs.map((input, i) => row(input, i, ids)).join('\n')}
</tbody></table>${data.page && data.page.count > 1 ? pager(data.page, data.inputs.length) : ''}</section>`;
}

const CSS = `
:root { color-scheme: light; --thumb: ${THUMB_PX}px; --line: #dde1e6; --muted: #5f6b7a; --accent: #2f6fde; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; background: #f7f8fa; color: #1d2430; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header h1 { margin: 0 0 2px; font-size: 1.6em; }
header p { margin: 0 0 16px; color: var(--muted); }
h2 { font-size: 1.05em; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
main { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
section.wide { flex-basis: 100%; }
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
table.legend td:nth-child(2) { color: var(--muted); font-size: .85em; overflow-wrap: anywhere; max-width: 36ch; }
table.legend td:last-child { text-align: right; }
code { font: .85em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef1f5; padding: 1px 4px; border-radius: 3px; white-space: nowrap; }
.hint { margin: -4px 0 8px; color: var(--muted); font-size: .85em; }
table.grid { border-collapse: separate; border-spacing: 0; }
table.grid > * > tr > th, table.grid > * > tr > td { padding: 8px; }
table.grid > thead > tr > th { position: sticky; top: 0; z-index: 2; background: #fff; text-align: center; box-shadow: 0 1px 0 var(--line); border-bottom: 0; }
table.grid > tbody > tr > th { font-weight: normal; border-right: 1px solid var(--line); }
table.grid > tbody > tr + tr > * { border-top: 1px solid var(--line); }
figure { margin: 0 0 6px; text-align: center; }
figcaption { font-size: .85em; color: var(--muted); max-width: var(--thumb); margin: 2px auto 0; overflow-wrap: anywhere; }
figcaption.name { color: inherit; font-weight: 600; }
figcaption span { display: block; }
.layer { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.cls { color: #1d2430; }
img.thumb { display: block; margin: 0 auto; width: var(--thumb); height: auto; border: 1px solid var(--line); background: #fff; cursor: zoom-in; }
img.thumb.px { image-rendering: pixelated; }
img.thumb.big { width: calc(2 * var(--thumb)); cursor: zoom-out; }
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
  table.grid thead { display: table-header-group; }
  table.grid > thead > tr > th { position: static; }
  table.grid tr { break-inside: avoid; }
  img.thumb { cursor: auto; }
  .hint { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}`;

const JS = `document.addEventListener('click', (e) => { const t = e.target; if (t instanceof HTMLImageElement && t.classList.contains('thumb')) t.classList.toggle('big'); });`;

/** The whole report as one self-contained HTML document. */
/** Whether any image is a file next to the report (the page's policy then allows them). */
const linksImages = (data: ReportData) => data.inputs.some((i) => !(i.png instanceof Uint8Array) || i.cells.some((c) => !(c.png instanceof Uint8Array)));

export function renderReport(data: ReportData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:${linksImages(data) ? " 'self' file:" : ''}; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(data.title)}</h1><p>generated <time datetime="${escapeHtml(data.generated)}">${escapeHtml(when(data.generated))}</time> by convlens</p></header>
<main>
${modelSection(data.model)}
${settingsSection(data.settings)}
${methodsSection(data.methods)}
${gridSection(data)}
${data.skipped?.length ? skippedSection(data.skipped) : ''}
</main>
<script>${JS}</script>
</body>
</html>
`;
}
