/**
 * The report in Chromium: it fits the window (no horizontal scrolling, 1440 or 1024 px
 * wide), the first map is on the first screen, the input column stays in view while its
 * maps scroll by, and every map shows a drawn colorbar. Screenshots go to test-artifacts/.
 * Needs /usr/bin/chromium (Debian's chromium; see the README's prerequisites).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, skipBrowser } from './browser.ts';
import { openModelFile } from '../src/app/open-model.ts';
import { explainRun } from '../src/app/explain-run.ts';

const bundled = fileURLToPath(new URL('../models/fashion-mnist/', import.meta.url));

test('the report fits the window, keeps the input in view and draws every colorbar', { skip: skipBrowser && 'CONVLENS_SKIP_BROWSER=1', timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-report-browser-'));
  const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
  mkdirSync(artifacts, { recursive: true });
  const b = await launchChromium();
  try {
    await using lens = await openModelFile(join(bundled, 'model.onnx'), {});
    const methods = ['grad-cam', 'saliency', 'guided-backprop', 'input-x-gradient', 'integrated-gradients', 'occlusion', 'occlusion-probability', 'rise', 'lrp', 'layer-cam', 'eigen-cam', 'deconvnet'];
    const summary = await explainRun(lens, [join(bundled, 'samples')], { methods, out: join(dir, 'out'), raw: false, colormap: 'jet', alpha: 0.5, options: { batchSize: 8 } });
    for (const width of [1440, 1024]) {
      const page = await b.newPage({ viewport: { width, height: 900 } });
      await page.goto(`file://${summary.report}`);
      const facts = await page.evaluate(() => {
        const cells = Array.from(document.querySelectorAll('figure.cell'));
        return {
          scrollWidth: document.documentElement.scrollWidth,
          firstMapTop: document.querySelector('figure.cell img')!.getBoundingClientRect().top,
          cells: cells.length,
          drawnBars: cells.filter((c) => {
            const strip = c.querySelector('.cbar .strip');
            return strip !== null && strip.getBoundingClientRect().width > 50 && getComputedStyle(strip).backgroundImage.startsWith('linear-gradient');
          }).length,
          labelledBars: cells.filter((c) => (c.querySelector('.cbar .tick.lo')?.textContent ?? '') !== '' && (c.querySelector('.cbar .tick.hi')?.textContent ?? '') !== '').length,
        };
      });
      assert.equal(facts.scrollWidth, width, 'no horizontal scrolling');
      assert.ok(facts.firstMapTop < 900, `first map at ${facts.firstMapTop}px`);
      assert.equal(facts.cells, 8 * methods.length);
      assert.equal(facts.drawnBars, facts.cells);
      assert.equal(facts.labelledBars, facts.cells);
      await page.screenshot({ path: join(artifacts, `report-${width}.png`) });
      // Scroll into the middle of the first row: its input is still on screen, at the top.
      const row = await page.evaluate(() => {
        const r = document.querySelector('article.row')!.getBoundingClientRect();
        window.scrollTo(0, window.scrollY + r.top + r.height / 2);
        const input = document.querySelector('article.row > .input')!.getBoundingClientRect();
        return { rowHeight: r.height, inputTop: input.top, inputBottom: input.bottom };
      });
      if (row.rowHeight > 900) {
        assert.ok(row.inputTop >= 0 && row.inputTop < 10, `input column top at ${row.inputTop}px after scrolling`);
        await page.screenshot({ path: join(artifacts, `report-${width}-scrolled.png`) });
      }
      await page.close();
    }
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
