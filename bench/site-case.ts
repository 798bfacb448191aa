/**
 * The static explorer against the explorer server: Grad-CAM on the bundled model and a
 * ResNet-50 (random weights), in Chromium (onnxruntime-web wasm in the page's Web Worker,
 * cross-origin isolated so with threads) and through `convlens serve`'s HTTP API
 * (onnxruntime-node). Per model: the first explain (compiles the graph) and the median of
 * 5 explains of other targets (the same compiled graph), both as the page or HTTP client
 * sees them (round trip) and as the workspace measured them (compute).
 * `node --import tsx bench/site-case.ts`; prints one JSON line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildSite } from '../src/web/static/build-site.ts';
import { serveStatic } from '../src/web/static/file-server.ts';
import { startServer } from '../src/web/server.ts';
import { bundledModel } from '../src/web/serve-command.ts';
import { serializeModel } from '../src/model/model.ts';
import type { ExplainResponse } from '../src/web/api-types.ts';
import type { ModelSettings } from '../src/web/workspace-core.ts';
import type { DebugHook } from '../src/web/client/app.ts';
import { resnet50 } from './models.ts';

interface Case {
  name: string;
  bytes: Uint8Array;
  settings: ModelSettings;
  image: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const targets = [1, 2, 3, 4, 5];

async function server(c: Case): Promise<Record<string, number>> {
  const served = await startServer({ model: { bytes: c.bytes, settings: c.settings }, port: 0, log: () => {} });
  try {
    const post = async (path: string, body: BodyInit, type: string) => {
      const res = await fetch(new URL(path, served.url), { method: 'POST', body, headers: { 'content-type': type } });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${path}: ${String(json['error'])}`);
      return json;
    };
    const { id } = (await post('/api/images?name=x', new Uint8Array(readFileSync(c.image)), 'application/octet-stream')) as { id: string };
    const run = async (target: number) => {
      const t0 = performance.now();
      const r = (await post('/api/explain', JSON.stringify({ image: id, method: 'grad-cam', target }), 'application/json')) as unknown as ExplainResponse;
      return { trip: performance.now() - t0, ms: r.ms };
    };
    const first = await run(0);
    const rest = [];
    for (const t of targets) rest.push(await run(t));
    return { first: first.trip, trip: median(rest.map((r) => r.trip)), compute: median(rest.map((r) => r.ms)) };
  } finally {
    await served.close();
  }
}

async function browser(c: Case, query = ''): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-site-bench-'));
  const site = await buildSite({ out: dir, model: { bytes: c.bytes, settings: c.settings }, samples: [c.image] });
  const served = await serveStatic(site.out);
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    const page = await b.newPage();
    const t0 = performance.now();
    await page.goto(served.url + query);
    // The page explains the first sample with grad-cam on its own: that run compiles.
    await page.waitForSelector('.result[data-method="grad-cam"][data-state="done"]', { timeout: 600_000 });
    const firstOverlay = performance.now() - t0;
    const image = `sample-${basename(c.image, extname(c.image))}`;
    const runs = await page.evaluate(
      async ({ image, targets }) => {
        const hook = (window as unknown as { __convlens: DebugHook }).__convlens;
        const out = [];
        for (const target of targets) {
          const t = performance.now();
          const r = await hook.backend.explain({ image, method: 'grad-cam', target });
          out.push({ trip: performance.now() - t, ms: r.ms, cached: r.cached });
        }
        return { out, threads: (hook.backend as unknown as { runtime: { threads: number } }).runtime.threads };
      },
      { image, targets },
    );
    if (runs.out.some((r) => r.cached)) throw new Error('a timed explain came from the cache');
    return { first: firstOverlay, trip: median(runs.out.map((r) => r.trip)), compute: median(runs.out.map((r) => r.ms)), threads: runs.threads };
  } finally {
    await b.close();
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const bundled = bundledModel()!;
const cases: Case[] = [
  { name: 'bundled', bytes: bundled.bytes, settings: bundled.settings, image: bundled.samples[0]! },
  { name: 'resnet50', bytes: serializeModel(resnet50()), settings: { name: 'resnet50' }, image: 'test/fixtures/images/chelsea.jpg' },
];
const result: Record<string, number> = {};
for (const c of cases) {
  for (const [where, r] of [['server', await server(c)], ['browser', await browser(c)], ['browser 2 threads', await browser(c, '?threads=2')]] as const) {
    for (const [k, v] of Object.entries(r)) result[`${c.name} ${where} ${k}`] = v;
  }
}
process.stdout.write(`${JSON.stringify({ result })}\n`);
