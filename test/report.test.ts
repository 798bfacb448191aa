/**
 * src/report/html.ts: the report is one self-contained file (every image is an
 * embedded PNG, byte for byte the one given; nothing is fetched), every text
 * from the data is escaped, and numbers are formatted for people.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { escapeHtml, renderReport, renderReportParts } from '../src/report/html.ts';
import { colourMeaning } from '../src/report/legend.ts';
import type { ReportCell, ReportData } from '../src/report/types.ts';
import { colormapTable } from '../src/viz/colormaps.ts';
import type { ColorScale } from '../src/viz/colorbar.ts';

const HOSTILE = '<script>alert(1)</script> & "x"';

/** Each method's color scale in the fixture: unsigned, signed (0 inside), attribution image. */
const SCALES: Record<string, ColorScale> = {
  'grad-cam': { colormap: 'jet', min: 0, max: 0.124 },
  saliency: { colormap: 'channels', min: -2.5, max: 0.5 },
  occlusion: { colormap: 'viridis', min: -0.0123, max: 31415.9 },
};

/** A real PNG: width x height RGB, pixels from `f(x, y)`. */
async function png(width: number, height: number, f: (x: number, y: number) => [number, number, number]): Promise<Uint8Array> {
  const raw = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(f(x, y), 3 * (y * width + x));
  const buf = await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A blob on grey, like a Fashion-MNIST sample. */
const sample = (cx: number, cy: number, size = 28) =>
  png(size, size, (x, y) => {
    const v = Math.max(0, 255 - 28 * Math.hypot(x - cx, (y - cy) * 0.6));
    return [v, v, v];
  });

/** A heat map: blue -> red around (cx, cy). */
const heat = (cx: number, cy: number, size = 28) =>
  png(size, size, (x, y) => {
    const t = Math.max(0, 1 - Math.hypot(x - cx, y - cy) / (size / 2.5));
    return [Math.round(255 * t), Math.round(80 * (1 - Math.abs(2 * t - 1))), Math.round(255 * (1 - t))];
  });

async function fixture(): Promise<ReportData> {
  const cell = async (method: string, cx: number, cy: number, extra: Partial<ReportCell> = {}): Promise<ReportCell> => ({
    method,
    png: await heat(cx, cy),
    scale: SCALES[method]!,
    ...extra,
  });
  return {
    title: `Report for ${HOSTILE}`,
    generated: '2025-01-02T03:04:05.678Z',
    model: {
      name: 'fashion<mnist>&.onnx',
      inputShape: [1, 28, 28],
      opset: 17,
      parameters: 1234567,
      ops: [
        { op: 'Conv', count: 3 },
        { op: 'Relu', count: 4 },
        { op: 'MaxPool', count: 2 },
        { op: 'Gemm', count: 1 },
        { op: 'Op<&>', count: 1 },
      ],
    },
    settings: { target: 'auto (top class)', layers: '/conv2/Conv_output_0 & /conv3/Conv_output_0', colormap: 'jet', [`key ${HOSTILE}`]: HOSTILE },
    methods: [
      { id: 'grad-cam', paper: 'Selvaraju et al. 2017 (eq. 1-2)', summary: 'Class-weighted feature maps of a layer.', ms: 12.34, family: 'cam', output: 'map', relu: true },
      { id: 'saliency', paper: 'Simonyan et al. 2014 (section 3.1)', summary: `Gradient magnitude per pixel ${HOSTILE}.`, ms: 3.21, family: 'gradient', output: 'map', relu: false },
      { id: 'occlusion', paper: 'Zeiler & Fergus 2014 javascript:alert(1)', summary: 'Score drop when a patch is hidden.', ms: 4567.8, family: 'perturbation', output: 'map', relu: false },
    ],
    inputs: [
      {
        name: 'shirt.png',
        png: await sample(14, 12),
        predictions: [
          { class: 6, label: 'Shirt', score: 7.25, probability: 0.875 },
          { class: 0, label: HOSTILE, score: 5.1, probability: 0.1 },
          { class: 2, label: 'Pullover', score: 2.0, probability: 0.0125 },
          { class: 4, label: 'Coat', score: 0.5, probability: 0.01 },
          { class: 3, label: 'Dress', score: -1.75, probability: 0.0025 },
        ],
        cells: [
          await cell('grad-cam', 10, 10, { layer: '/conv2/Conv_output_0', class: 6, label: 'Shirt' }),
          await cell('grad-cam', 16, 12, { layer: '<fused & "x">', class: 6, label: 'Shirt' }),
          await cell('saliency', 14, 14, { class: 6, label: 'Shirt' }),
          await cell('occlusion', 8, 20, { class: 0, label: HOSTILE }),
        ],
      },
      {
        name: `bag ${HOSTILE}.png`,
        png: await sample(10, 18),
        predictions: [
          { class: 8, label: 'Bag', score: 9, probability: 0.99 },
          { class: 0, label: 'T-shirt/top', score: 3, probability: 0.005 },
          { class: 5, label: 'Sandal', score: 2, probability: 0.003 },
          { class: 7, label: 'Sneaker', score: 1, probability: 0.0015 },
          { class: 9, label: 'Ankle boot', score: 0, probability: 0.00001 },
        ],
        cells: [
          // Out of method order on purpose: the grid orders by data.methods.
          await cell('occlusion', 20, 6, { class: 8, label: 'Bag' }),
          await cell('grad-cam', 12, 18, { layer: '/conv2/Conv_output_0', class: 8, label: 'Bag' }),
          await cell('grad-cam', 12, 16, { layer: '<fused & "x">', class: 8, label: 'Bag' }),
          { method: 'saliency', png: await heat(6, 6, 200) }, // large image, no class, layer or scale
        ],
      },
    ],
  };
}

/** Decodes the few entities escapeHtml and the template produce (numeric, named basics). */
const unescape = (html: string): string =>
  html
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

const imgTags = (html: string): string[] => html.match(/<img\b[^>]*>/g) ?? [];
const srcOf = (tag: string): string => /\ssrc="([^"]*)"/.exec(tag)?.[1] ?? assert.fail(`no src in ${tag}`);
/** The input rows of the explanations grid. */
const rows = (html: string): string[] => html.split('<article class="row"').slice(1).map((r) => r.split('</article>')[0]!);
/** The method ids captioned in a row, in order. */
const methodsIn = (row: string): string[] => [...row.matchAll(/<figcaption class="method"><code>([^<]*)<\/code>/g)].map((m) => unescape(m[1]!));

describe('renderReport', async () => {
  const data = await fixture();
  const html = renderReport(data);

  test('every image is an embedded PNG, byte for byte the one given, in grid order', () => {
    const ids = data.methods.map((m) => m.id);
    const expected = data.inputs.flatMap((input) => [input.png, ...ids.flatMap((id) => input.cells.filter((c) => c.method === id).map((c) => c.png))]);
    const tags = imgTags(html);
    assert.equal(tags.length, data.inputs.length + data.inputs.reduce((n, i) => n + i.cells.length, 0));
    assert.equal(tags.length, expected.length);
    tags.forEach((tag, i) => {
      const src = srcOf(tag);
      assert.ok(src.startsWith('data:image/png;base64,'), src.slice(0, 40));
      const b64 = src.slice('data:image/png;base64,'.length);
      assert.match(b64, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.deepEqual(new Uint8Array(Buffer.from(b64, 'base64')), expected[i]);
    });
  });

  test('small images are scaled up pixelated, large ones are not', () => {
    const tags = imgTags(html);
    const small = tags.filter((t) => t.includes('width="28" height="28"'));
    const large = tags.filter((t) => t.includes('width="200" height="200"'));
    assert.equal(small.length, tags.length - 1);
    assert.equal(large.length, 1);
    for (const t of small) assert.match(t, /class="thumb px"/);
    assert.match(large[0]!, /class="thumb"/);
    assert.match(html, /img\.thumb\.px \{ image-rendering: pixelated; \}/);
    assert.match(html, /--thumb: 160px;/);
    assert.match(html, /img\.thumb \{[^}]*width: var\(--thumb\)/);
  });

  test('nothing is fetched: no external URLs, no absolute paths, no linked resources', () => {
    for (const bad of ['http://', 'https://', 'src="/', "src='/", 'href="http', 'href=', '<link', '@import', 'url(', '<script src', '<iframe']) {
      assert.ok(!html.includes(bad), `found ${bad}`);
    }
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;/);
  });

  test('URLs in paper citations are links (navigation, never sources); other schemes stay text', () => {
    const withUrl = renderReport({ ...data, methods: [{ ...data.methods[0]!, paper: 'Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391 (eq. 1-2)' }] });
    const link = '<a href="https://arxiv.org/abs/1610.02391" target="_blank" rel="noopener noreferrer">https://arxiv.org/abs/1610.02391</a>';
    assert.ok(withUrl.includes(`<td>Selvaraju et al. 2017, ${link} (eq. 1-2)</td>`));
    assert.equal(withUrl.split('https://').length - 1, 2); // the href and the text, nothing else
    assert.ok(!/src=["']?https?:/.test(withUrl));
    assert.ok(html.includes('<td>Zeiler &#38; Fergus 2014 javascript:alert(1)</td>'));
    assert.ok(!/href=["']?javascript:/.test(html));
  });

  test('one row per input, sticky input column; every row names every method in order, grouped by family', () => {
    const all = rows(html);
    assert.equal(all.length, data.inputs.length);
    for (const r of all) {
      assert.deepEqual(methodsIn(r), ['grad-cam', 'grad-cam', 'saliency', 'occlusion']);
      assert.deepEqual([...r.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]), ['class activation maps', 'gradients', 'perturbation']);
    }
    assert.match(html, /\.row > \.input \{ position: sticky; top: 0;/);
    // Nothing forces a width beyond the window: the maps wrap.
    assert.match(html, /\.cells \{ display: flex; flex-wrap: wrap;/);
  });

  test('each rendered map carries its colorbar: the colormap strip and its value range, 0 marked inside', () => {
    for (const [i, r] of rows(html).entries()) {
      const cells = r.split('<figure class="cell">').slice(1);
      const given = data.inputs[i]!.cells;
      assert.equal(cells.length, given.length);
      // Cells appear in method order; match each to its data by method and order.
      const ordered = data.methods.flatMap((m) => given.filter((c) => c.method === m.id));
      for (const [k, c] of cells.entries()) {
        const scale = ordered[k]!.scale;
        const bar = /<div class="cbar"[^>]*data-min="([^"]*)" data-max="([^"]*)"><span class="strip cm-([a-z]+)"><\/span><span class="ticks">(.*?)<\/span><\/div>/.exec(c);
        if (!scale) {
          assert.equal(bar, null, 'a cell without a scale gets no colorbar');
          continue;
        }
        assert.ok(bar, `no colorbar in ${c.slice(0, 200)}`);
        assert.equal(Number(bar[1]), scale.min);
        assert.equal(Number(bar[2]), scale.max);
        assert.equal(bar[3], scale.colormap);
        const ticks = [...bar[4]!.matchAll(/<span class="tick (lo|mid|hi)"[^>]*>([^<]*)<\/span>/g)].map((m) => `${m[1]}:${m[2]}`);
        const expected = { 'grad-cam': ['lo:0', 'hi:0.124'], saliency: ['lo:-2.5', 'mid:', 'hi:0.5'], occlusion: ['lo:-0.0123', 'mid:', 'hi:3.14e4'] }[ordered[k]!.method];
        assert.deepEqual(ticks, expected);
      }
    }
    // saliency's 0 sits at 2.5 / 3 = 83.3% of its bar (too near the end for a label: the mark stays).
    assert.ok(html.includes('<span class="tick mid" style="left:83.3%" data-value="0" title="0"></span>'));
    // One strip rule per colormap used, from the colormap's own table: jet's first entry at 0%, last at 100%.
    const jet = colormapTable('jet');
    const hex = (i: number) => `#${[...jet.subarray(3 * i, 3 * i + 3)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    const rule = /\.cm-jet \{ background: linear-gradient\(to right, ([^)]*)\); \}/.exec(html)?.[1] ?? assert.fail('no jet strip');
    assert.ok(rule.startsWith(`${hex(0)} 0%,`) && rule.endsWith(`${hex(255)} 100%`), rule);
    assert.match(html, /\.cm-channels \{ background: linear-gradient\(to right, #000000 0%, .* #ffffff 100%\); \}/);
    assert.ok(!html.includes('.cm-inferno'));
  });

  test('the legend says what each method\'s colours mean; occlusion and occlusion-probability read opposite ways', () => {
    const legend = /<table class="legend">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? assert.fail('no legend');
    assert.match(legend, /red = strongest evidence for the class, blue = none/); // grad-cam on jet, ReLU'd
    assert.match(legend, /dark = the score does not change with this pixel, bright = the largest gradient magnitude/); // saliency, its own words
    assert.match(colourMeaning({ id: 'guided-backprop', output: 'image', relu: false }, 'channels'), /^Attribution image .* black = the most negative value, white = the most positive; the bar marks 0/);
    assert.match(legend, /yellow = hiding this region lowers the class score most/); // occlusion on viridis
    const both = renderReport({ ...data, methods: [...data.methods, { id: 'occlusion-probability', paper: '', summary: '', ms: 1, output: 'map', relu: false }], inputs: [{ ...data.inputs[0]!, cells: [...data.inputs[0]!.cells, { method: 'occlusion-probability', png: data.inputs[0]!.png, scale: { colormap: 'jet', min: 0.1, max: 0.9 } }] }] });
    assert.match(both, /Reads the OTHER way from occlusion: .* blue \(low probability\) marks where the evidence is/);
  });

  test('text from the data only appears escaped', () => {
    assert.ok(!html.includes(HOSTILE));
    assert.ok(!html.includes('<script>alert'));
    assert.ok(!html.includes('<fused'));
    assert.ok(!html.includes('<mnist>'));
    assert.ok(!html.includes('Op<&>'));
    // the only script element is the inline click-to-enlarge one
    assert.equal(html.split('<script').length - 1, 1);
    const escaped = escapeHtml(HOSTILE);
    assert.ok(!/[<>"]/.test(escaped));
    // title (twice), setting key and value, a prediction, a cell label, an input name (caption, alt), a summary
    assert.ok(html.split(escaped).length - 1 >= 8, `escaped hostile text found ${html.split(escaped).length - 1} times`);
    // ... and it reads back as the original text
    const text = unescape(html.replace(/<[^>]*>/g, '\n'));
    for (const s of [`Report for ${HOSTILE}`, HOSTILE, 'fashion<mnist>&.onnx', '<fused & "x">', 'Op<&>', `bag ${HOSTILE}.png`]) {
      assert.ok(text.includes(s), `${s} not shown`);
    }
    // attribute values survive too
    assert.ok(imgTags(html).some((t) => unescape(/alt="([^"]*)"/.exec(t)?.[1] ?? '') === `bag ${HOSTILE}.png`));
  });

  test('numbers are formatted for people', () => {
    assert.ok(html.includes('87.5%'));
    assert.ok(html.includes('10.0%'));
    assert.ok(html.includes('1.3%')); // 0.0125
    assert.ok(html.includes('99.0%'));
    assert.ok(html.includes('>&lt;0.1%<')); // 0.00001
    assert.ok(html.includes('7.25'));
    assert.ok(html.includes('-1.75'));
    assert.ok(html.includes('>0.00<') && !html.includes('-0.00')); // score 0
    assert.ok(html.includes('<td>1,234,567</td>'));
    assert.ok(!html.includes('1234567'));
    assert.ok(html.includes('[1, 28, 28]'));
    assert.ok(html.includes('>2025-01-02 03:04:05 UTC</time>'));
    assert.ok(html.includes('12&nbsp;ms') && html.includes('3.2&nbsp;ms') && html.includes('4,568&nbsp;ms'));
  });

  test('cells are captioned with their layer and explained class', () => {
    const text = unescape(html.replace(/<[^>]*>/g, '\n'));
    assert.ok(text.includes('/conv2/Conv_output_0'));
    assert.ok(text.includes('for Shirt') && text.includes('for Bag') && text.includes(`for ${HOSTILE}`));
    assert.equal(html.split('<figure>').length - 1, data.inputs.length);
    assert.equal(html.split('<figure class="cell">').length - 1, data.inputs.reduce((n, i) => n + i.cells.length, 0));
  });

  test('a method without cells for an input shows a dash; unlisted methods still get a place', () => {
    const sparse = renderReport({
      ...data,
      settings: {},
      inputs: [{ ...data.inputs[0]!, cells: [...data.inputs[0]!.cells.filter((c) => c.method !== 'saliency'), { method: 'extra<id>', png: data.inputs[0]!.png }] }],
    });
    assert.equal(sparse.split('<span class="none">—</span>').length - 1, 1);
    assert.deepEqual(methodsIn(rows(sparse)[0]!), ['grad-cam', 'grad-cam', 'saliency', 'occlusion', 'extra<id>']);
    assert.equal(imgTags(sparse).length, 1 + 4);
  });

  test('escapeHtml', () => {
    assert.equal(escapeHtml(`a<b>&"c"'d'`), 'a&#60;b&#62;&#38;&#34;c&#34;&#39;d&#39;');
    assert.equal(escapeHtml(42), '42');
    // control characters (not allowed in HTML) become U+FFFD; tab, newline and carriage return stay
    assert.equal(escapeHtml('a\u0000b\u0001c\u001fd\u007fe\tf\ng\rh'), 'a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng\rh');
  });

  test('the report written in parts is the same document, with text that looks like their image marks', () => {
    // U+0001 marks an image's place in renderReportParts; here it is in the title, names and labels too.
    const marked = `${HOSTILE} \u00010\u0001`;
    const input = data.inputs[0]!;
    const tricky: ReportData = {
      ...data,
      title: marked,
      settings: { [marked]: marked },
      inputs: [{ ...input, name: marked, cells: input.cells.map((c) => ({ ...c, label: marked, layer: marked })) }, ...data.inputs.slice(1)],
    };
    const parts = renderReportParts(tricky);
    const pngs = parts.filter((p) => typeof p !== 'string');
    const embedded = tricky.inputs.flatMap((i) => [i.png, ...i.cells.map((c) => c.png)]).filter((p) => p instanceof Uint8Array);
    // every embedded image once (in grid order, which the comparison below checks), none made up
    assert.equal(pngs.length, embedded.length);
    assert.equal(new Set(pngs.map((p) => p.png)).size, new Set(embedded).size);
    assert.ok(pngs.every((p) => embedded.includes(p.png)));
    const written = parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p.png).toString('base64'))).join('');
    assert.equal(written, renderReport(tricky));
    assert.ok(!written.includes('\u0001'));
  });

  test('writes a sample report to test-artifacts/', async () => {
    const dir = join(import.meta.dirname, '..', 'test-artifacts');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'report-sample.html'), html);
  });
});
