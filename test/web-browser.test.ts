/**
 * The explorer page in a real headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): load, predict, explain, switch layer and method, activations, graph.
 * Screenshots go to test-artifacts/. Without Chromium the test fails, unless
 * CONVLENS_SKIP_BROWSER=1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, skipBrowser } from './browser.ts';
import { zoo } from './zoo/models.ts';
import { fixture } from './helpers.ts';
import { serializeModel } from '../src/model/model.ts';
import { decodeImage } from '../src/viz/png.ts';
import { defaultStaticDir, startServer, type ExplorerServer } from '../src/web/server.ts';
import { bundledModel } from '../src/web/serve-command.ts';
import type { ExplainResponse, MethodEntry } from '../src/web/api-types.ts';

const skip = skipBrowser;
const artifacts = new URL('../test-artifacts/', import.meta.url).pathname;

let served: ExplorerServer;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  if (!existsSync(join(defaultStaticDir, 'index.html'))) execFileSync('npm', ['run', 'build:web'], { stdio: 'inherit' });
  mkdirSync(artifacts, { recursive: true });
  // The bundled model when it is installed, else a zoo model with the fixture photos.
  const bundled = bundledModel();
  served = await startServer({
    model: bundled ?? { bytes: serializeModel(zoo['tiny-resnet']!.build()), settings: { name: 'tiny-resnet.onnx' } },
    samples: bundled?.samples ?? [fixture('images/chelsea.jpg'), fixture('images/coffee.jpg')],
    port: 0,
  });
  browser = await launchChromium();
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await served?.close();
});

const shot = (name: string) => page.screenshot({ path: join(artifacts, `web-${name}.png`), fullPage: true });

/** RGBA pixels of a canvas. */
async function canvasPixels(selector: string): Promise<{ width: number; height: number; data: number[] }> {
  return page.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    return { width: d.width, height: d.height, data: Array.from(d.data) };
  });
}

const done = (method: string) => `.result[data-method="${method}"][data-state="done"]`;

test('the explorer page: predict, explain, layers, methods, activations, graph', { skip: skip && 'CONVLENS_SKIP_BROWSER=1' }, async (t) => {
  const t0 = performance.now();
  await page.goto(served.url);
  await page.waitForSelector(done('grad-cam'), { timeout: 60_000 });
  const firstOverlayMs = performance.now() - t0;
  t.diagnostic(`time to first overlay after page load: ${firstOverlayMs.toFixed(0)} ms`);
  const model = served.workspace.current!;
  assert.equal(await page.textContent('#model-name'), model.name);
  assert.equal(await page.locator('#predictions li').count(), Math.min(5, model.classes));
  await shot('1-explain');

  // The overlay differs from the image and equals the API's PNG, pixel for pixel.
  const image = await page.getAttribute('.sample.selected', 'data-id');
  assert.ok(image);
  const layer = await page.inputValue('#layer');
  const api = (await (await fetch(new URL('/api/explain', served.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image, method: 'grad-cam', layer, colormap: 'jet', alpha: 0.5 }) })).json()) as ExplainResponse;
  const expected = await decodeImage(Buffer.from(api.png, 'base64'));
  const overlay = await canvasPixels(`${done('grad-cam')} canvas`);
  const input = await canvasPixels('#input-canvas');
  assert.deepEqual([overlay.width, overlay.height], [expected.width, expected.height]);
  let same = 0;
  let differsFromInput = 0;
  for (let p = 0; p < expected.width * expected.height; p++) {
    if ([0, 1, 2].every((c) => overlay.data[4 * p + c] === expected.data[3 * p + c])) same++;
    if ([0, 1, 2].some((c) => overlay.data[4 * p + c] !== input.data[4 * p + c])) differsFromInput++;
  }
  assert.equal(same, expected.width * expected.height, 'the drawn overlay equals the API PNG');
  assert.ok(differsFromInput > (expected.width * expected.height) / 2, `overlay differs from the plain image in ${differsFromInput} pixels`);

  // Opacity 0 redraws locally: the canvas becomes the plain image.
  await page.fill('#alpha', '0');
  await page.dispatchEvent('#alpha', 'input');
  await page.waitForSelector(`${done('grad-cam')} canvas`);
  assert.deepEqual((await canvasPixels(`${done('grad-cam')} canvas`)).data, input.data);
  await page.fill('#alpha', '0.5');
  await page.dispatchEvent('#alpha', 'input');

  // Upload an image through the file input.
  await page.setInputFiles('#image-file', fixture('images/coffee.jpg'));
  await page.waitForFunction(() => document.querySelector('#image-name')?.textContent === 'coffee');
  await page.waitForSelector(done('grad-cam'));

  // Another layer: the map changes and the caption names it.
  const before = (await canvasPixels(`${done('grad-cam')} canvas`)).data;
  const first = model.layers.find((l) => l.conv) ?? model.layers[0]!;
  await page.selectOption('#layer', first.tensor);
  await page.waitForFunction((l) => document.querySelector('.result[data-method="grad-cam"][data-state="done"] .detail')?.textContent?.includes(l), first.tensor);
  assert.notDeepEqual((await canvasPixels(`${done('grad-cam')} canvas`)).data, before);

  // Another method next to grad-cam, another colormap, a target from the predictions.
  await page.check('#methods input[value="gradient"]');
  await page.check('#methods input[value="grad-cam-plus-plus"]');
  await page.waitForSelector(done('gradient'));
  await page.waitForSelector(done('grad-cam-plus-plus'));
  await page.selectOption('#colormap', 'viridis');
  await page.click('#predictions li:nth-child(2)');
  await page.waitForSelector(done('grad-cam-plus-plus'));
  const second = await page.getAttribute('#predictions li:nth-child(2)', 'data-class');
  assert.match((await page.textContent(`${done('grad-cam')} .detail`)) ?? '', new RegExp(`class ${second}:`));
  await shot('2-methods');

  // Activation overview: a column per layer, click a thumbnail to enlarge.
  await page.click('[data-tab="activations"]');
  const columns = model.layers.filter((l) => l.conv).length || model.layers.length;
  await page.waitForFunction((n) => document.querySelectorAll('#activations .column .thumbs').length === n, columns, { timeout: 60_000 });
  await page.click('#activations .column .thumb');
  await page.waitForSelector('#lightbox:not([hidden]) img');
  await shot('3-activations');
  await page.keyboard.press('Escape');

  // The structure graph: click a box to select its layer.
  await page.click('[data-tab="graph"]');
  await page.waitForSelector('#graph svg g.node');
  const target = model.layers[1] ?? model.layers[0]!;
  const box = await page.$$eval('#graph g.node', (gs, node) => gs.findIndex((g) => (JSON.parse((g as SVGGElement).dataset['nodes'] ?? '[]') as string[]).includes(node)), target.node);
  assert.ok(box >= 0, `no box holds node ${target.node}`);
  await page.locator('#graph g.node').nth(box).click();
  await page.waitForFunction(() => document.querySelector('#graph g.node.selected') !== null);
  const chosen = await page.inputValue('#layer');
  const boxNodes = JSON.parse((await page.locator('#graph g.node').nth(box).getAttribute('data-nodes')) ?? '[]') as string[];
  assert.ok(boxNodes.includes(model.layers.find((l) => l.tensor === chosen)!.node), `layer ${chosen} is in the clicked box`);
  await shot('4-graph');

  await page.click('[data-tab="model"]');
  await page.waitForSelector('#model-info table.summary');
  await shot('5-model');

  // Open another model through the page.
  const file = join(tmpdir(), 'convlens-web-vgg.onnx');
  writeFileSync(file, serializeModel(zoo['tiny-vgg']!.build()));
  await page.click('[data-tab="explain"]');
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction(() => document.querySelector('#model-name')?.textContent === 'convlens-web-vgg.onnx', undefined, { timeout: 60_000 });
  await page.waitForSelector(done('grad-cam'), { timeout: 60_000 });
  await shot('6-uploaded-model');

  // Method options: controls generated from the registry's schema; a changed value is sent and changes the map.
  await page.check('#methods input[value="occlusion"]');
  await page.waitForSelector(done('occlusion'), { timeout: 60_000 });
  const schema = ((await (await fetch(new URL('/api/methods', served.url))).json()) as MethodEntry[]).find((m) => m.id === 'occlusion')!.options;
  const card = '.result[data-method="occlusion"]';
  assert.deepEqual(await page.$$eval(`${card} details.options [data-option]`, (els) => els.map((e) => (e as HTMLElement).dataset['option'])), schema.map((o) => o.name));
  const plain = (await canvasPixels(`${done('occlusion')} canvas`)).data;
  await page.click(`${card} details.options summary`);
  const window = schema.find((o) => o.name === 'window')!;
  assert.equal(await page.inputValue(`${card} [data-option="window"]`), String(window.default));
  await page.fill(`${card} [data-option="window"]`, '4');
  await page.dispatchEvent(`${card} [data-option="window"]`, 'change');
  await page.waitForSelector(done('occlusion'));
  assert.notDeepEqual((await canvasPixels(`${done('occlusion')} canvas`)).data, plain, 'window 4 gives another map');
  // A value out of range is the server's 400, shown on the card.
  await page.fill(`${card} [data-option="window"]`, '0');
  await page.dispatchEvent(`${card} [data-option="window"]`, 'change');
  await page.waitForSelector('.result[data-method="occlusion"][data-state="error"]');
  assert.match((await page.textContent(`${card} .detail`)) ?? '', /window/);

  // The deletion and insertion curves of the shown grad-cam map, drawn under it.
  await page.click('.result[data-method="grad-cam"] .curves-button');
  await page.waitForSelector('.result[data-method="grad-cam"] .curves[data-state="done"] polyline.insertion', { timeout: 60_000 });
  const points = await page.$$eval('.result[data-method="grad-cam"] .curves polyline', (ls) => ls.map((l) => l.getAttribute('points')!.split(' ').length));
  assert.deepEqual(points, [33, 33]);
  await shot('7-curves');
});
