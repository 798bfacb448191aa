/**
 * The static explorer (`convlens site`) in a real headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core), served by the file server of `convlens site
 * --serve` (COOP/COEP headers, so onnxruntime-web gets its threads). The page opens the
 * bundled model, the test uploads the model and a sample through the page's file inputs, and the Grad-CAM and
 * guided-backprop values the Web Worker computed (read through window.__convlens) equal
 * the Node library's for the same image. Without Chromium the test fails, unless
 * CONVLENS_SKIP_BROWSER=1.
 */
import { after, before, test } from 'node:test';
import { get } from 'node:http';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, skipBrowser } from './browser.ts';
import { buildSite } from '../src/web/static/build-site.ts';
import { serveStatic, type StaticServer } from '../src/web/static/file-server.ts';
import { bundledModel } from '../src/web/serve-command.ts';
import { parseModel } from '../src/model/model.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { loadImageForModel } from '../src/input/image-file.ts';
import { imageToTensor } from '../src/input/preprocess.ts';
import { detectLayout } from '../src/input/layout.ts';
import { declaredDims } from '../src/runtime/specialize.ts';
import type { DebugHook } from '../src/web/client/app.ts';
import type { RuntimeInfo } from '../src/web/static/protocol.ts';

const skip = skipBrowser;
const artifacts = new URL('../test-artifacts/', import.meta.url).pathname;
const bundled = bundledModel();

let dir: string;
let served: StaticServer;
let url: string;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  assert.ok(bundled, 'the bundled model (models/fashion-mnist) is missing');
  mkdirSync(artifacts, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'convlens-site-'));
  await buildSite({ out: dir, model: { bytes: bundled.bytes, settings: bundled.settings }, samples: bundled.samples });
  served = await serveStatic(dir);
  url = served.url;
  browser = await launchChromium();
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await served?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const done = (method: string) => `.result[data-method="${method}"][data-state="done"]`;

type PageResults = ReturnType<DebugHook['results']>;

const pageResults = (): Promise<PageResults> => page.evaluate(() => (window as unknown as { __convlens: DebugHook }).__convlens.results());

/** The Node library's explanation of one image file with the bundled model's input settings. */
async function nodeExplanation(sample: string, method: string, layer: string | null): Promise<{ values: Float32Array; dims: number[]; class: number | undefined }> {
  const proto = parseModel(bundled!.bytes);
  await using explainer = await Explainer.create(proto);
  const layout = detectLayout(declaredDims(proto.graph!.input![0]!)!, 'input');
  const { image } = await loadImageForModel(sample, { height: layout.height!, width: layout.width!, resize: 'stretch' });
  const tensor = imageToTensor([image], layout, bundled!.settings.preset!);
  const [e] = await explainer.explain(tensor, method, { target: 'auto', ...(layer ? { targetLayers: [layer] } : {}) });
  return { values: e!.values, dims: e!.dims, class: e!.class };
}

function assertClose(actual: readonly number[], expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0, `${what}: the Node result is all zeros`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= 1e-4 * scale, `${what}: largest difference ${worst} (values up to ${scale})`);
}

test('the static explorer computes in the browser what the Node library computes', { skip: skip && 'CONVLENS_SKIP_BROWSER=1', timeout: 90_000 }, async (t) => {
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector(done('grad-cam'), { timeout: 60_000 });
  t.diagnostic(`static site: first overlay ${(performance.now() - t0).toFixed(0)} ms after page load`);
  const runtime = await page.evaluate(() => ((window as unknown as { __convlens: DebugHook }).__convlens.backend as unknown as { runtime: RuntimeInfo }).runtime);
  assert.equal(runtime.crossOriginIsolated, true, 'the COOP/COEP file server makes the page cross-origin isolated');
  assert.equal(runtime.ep, 'wasm');
  t.diagnostic(`onnxruntime-web: ${JSON.stringify(runtime)}`);
  assert.equal(await page.locator('#predictions li').count(), 5);

  // Open the model file and a sample through the page, as a user would; the model with the
  // keyboard only (focus the button, Enter opens the file chooser).
  const choosing = page.waitForEvent('filechooser');
  await page.focus('#open-model');
  await page.keyboard.press('Enter');
  await (await choosing).setFiles(join(bundled!.samples[0]!, '../../model.onnx'));
  await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('loaded '));
  const sample = bundled!.samples.find((s) => s.includes('ankle-boot')) ?? bundled!.samples[0]!;
  await page.setInputFiles('#image-file', sample);
  const name = sample.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
  await page.waitForFunction((n) => document.querySelector('#image-name')?.textContent === n, name);
  await page.check('#methods input[value="guided-backprop"]');
  await page.waitForSelector(done('grad-cam'));
  await page.waitForSelector(done('guided-backprop'));
  await page.screenshot({ path: join(artifacts, 'site-1-explain.png'), fullPage: true });

  const results = await pageResults();
  const gradcam = results['grad-cam'];
  const guided = results['guided-backprop'];
  assert.ok(gradcam && guided, `results for ${Object.keys(results).join(', ')}`);
  const expectedCam = await nodeExplanation(sample, 'grad-cam', gradcam.layer);
  assert.deepEqual(gradcam.dims, expectedCam.dims);
  assert.equal(gradcam.class, expectedCam.class);
  assertClose(gradcam.values, expectedCam.values, 'grad-cam');
  const expectedGuided = await nodeExplanation(sample, 'guided-backprop', null);
  assert.deepEqual(guided.dims, expectedGuided.dims);
  assertClose(guided.values, expectedGuided.values, 'guided-backprop');
  t.diagnostic(`in-browser compute: grad-cam ${gradcam.ms.toFixed(1)} ms, guided-backprop ${guided.ms.toFixed(1)} ms`);
});

test('the static explorer: every method, activations, structure graph, kernels', { skip: skip && 'CONVLENS_SKIP_BROWSER=1', timeout: 90_000 }, async (t) => {
  // Every registry method runs in the worker: check them all, each card ends done, none in
  // error. RISE (thousands of masked forward passes: over 15 s in wasm on a busy 2-core
  // machine) is left out to keep the test short; it runs the same code path as occlusion.
  const slow = ['rise'];
  const ids = (await page.$$eval('#methods input[type="checkbox"]', (boxes) => boxes.map((b) => (b as HTMLInputElement).value))).filter((id) => !slow.includes(id));
  // All boxes in one go: each change starts a new run that aborts the one before it; only
  // the last run must go to the end. (How many replaced calls the worker skips depends on
  // timing: a replaced call answered from the cache may finish before its cancel arrives.)
  await page.$$eval('#methods input[type="checkbox"]:not(:checked)', (boxes, skipped) => {
    for (const b of boxes.filter((x) => !skipped.includes((x as HTMLInputElement).value))) {
      (b as HTMLInputElement).checked = true;
      b.dispatchEvent(new Event('change'));
    }
  }, slow);
  const t0 = performance.now();
  await page.waitForFunction((n) => document.querySelectorAll('.result[data-state="done"], .result[data-state="error"]').length === n, ids.length, { timeout: 60_000 });
  t.diagnostic(`${ids.length} methods in ${(performance.now() - t0).toFixed(0)} ms`);
  const errors = await page.$$eval('.result[data-state="error"]', (els) => els.map((e) => `${(e as HTMLElement).dataset['method']}: ${e.querySelector('.detail')?.textContent}`));
  assert.deepEqual(errors, []);
  const values = await pageResults();
  for (const id of ids) assert.ok(values[id]!.values.some((v) => v !== 0), `${id} gives a non-zero result`);
  t.diagnostic(ids.map((id) => `${id} ${values[id]!.ms.toFixed(0)} ms`).join(', '));
  await page.screenshot({ path: join(artifacts, 'site-2-all-methods.png'), fullPage: true });

  // Cancel in the worker, with the page idle: a long RISE run (20,000 masked forward passes)
  // and a saliency call queued behind it; the page aborts both after the first progress
  // message. The worker's status call queues behind the RISE run, so it is answered only once
  // the run has stopped. Had RISE run to its end, the worker would count it done, not stopped.
  const outcome = await page.evaluate(async () => {
    const hook = (window as unknown as { __convlens: DebugHook }).__convlens;
    const backend = hook.backend as DebugHook['backend'] & { status(): Promise<Record<string, number>> };
    const image = hook.image()!;
    const before = await backend.status();
    const controller = new AbortController();
    const fractions: number[] = [];
    let progressed!: () => void;
    const started = new Promise<void>((resolve) => (progressed = resolve));
    const long = backend.explain({ image, method: 'rise', options: { masks: 20000 } }, controller.signal, (f) => (fractions.push(f), progressed()));
    const queued = backend.explain({ image, method: 'saliency', target: 3 }, controller.signal);
    await started;
    const t0 = performance.now();
    controller.abort();
    const settled = await Promise.allSettled([long, queued]);
    const after = await backend.status();
    return {
      stopMs: performance.now() - t0,
      fractions,
      rejected: settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).name : 'fulfilled')),
      delta: Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!])),
    };
  });
  t.diagnostic(`abort to the worker's next answer: ${outcome.stopMs.toFixed(0)} ms, after ${outcome.fractions.length} progress messages`);
  assert.deepEqual({ dropped: outcome.delta['dropped'], stopped: outcome.delta['stopped'] }, { dropped: 1, stopped: 1 }, `worker counts: ${JSON.stringify(outcome.delta)}`);
  assert.deepEqual(outcome.rejected, ['AbortError', 'AbortError']);

  // Keyboard: Enter on the second prediction explains that class.
  await page.focus('#predictions li:nth-child(2)');
  await page.keyboard.press('Enter');
  const second = await page.getAttribute('#predictions li:nth-child(2)', 'data-class');
  assert.equal(await page.inputValue('#target'), second);

  // Activations: all conv layers, then one picked layer alone.
  await page.click('[data-tab="activations"]');
  const layers = await page.$$eval('#activation-layer option', (os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
  await page.waitForFunction((n) => document.querySelectorAll('#activations .column .thumbs').length === n, layers.length);
  await page.selectOption('#activation-layer', layers[0]!);
  await page.waitForFunction((l) => {
    const columns = document.querySelectorAll<HTMLElement>('#activations .column');
    return columns.length === 1 && columns[0]!.dataset['layer'] === l && columns[0]!.querySelector('.thumbs') !== null;
  }, layers[0]!);
  await page.focus('#activations .thumb');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#lightbox:not([hidden]) img');
  await page.keyboard.press('Escape');
  assert.equal(await page.isHidden('#lightbox'), true);
  await page.click('[data-tab="graph"]');
  await page.waitForSelector('#graph svg g.node');
  await page.click('[data-tab="model"]');
  await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('#filter-image')?.naturalWidth ?? 0) > 0);
});

test('the site file server answers files inside its folder only', { skip: skip && 'CONVLENS_SKIP_BROWSER=1' }, async () => {
  const status = (path: string) => new Promise<number>((resolve, reject) => get(new URL(url), { path }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
  assert.equal(await status('/bundled/manifest.json'), 200);
  assert.equal(await status('/..%2f..%2f..%2fetc%2fpasswd'), 404);
  assert.equal(await status('/%2e%2e/%2e%2e/etc/passwd'), 404);
  assert.equal(await status('/missing.js'), 404);
});
