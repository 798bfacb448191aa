/** Writing an evaluation to a folder: results.json, results.csv, the SVG plots and index.html. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EvaluationResult } from '../evaluate.ts';
import { renderEvaluationHtml, tableCsv } from './html.ts';
import { cascadeSpec, curveSpec, renderSvg } from './plots.ts';

export async function writeEvaluation(result: EvaluationResult, dir: string, info: { title: string; settings: Record<string, string> }): Promise<{ report: string; files: string[] }> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    files.push(path);
  };
  write('results.json', JSON.stringify({ ...info, ...result }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  write('results.csv', tableCsv(result));
  const plots: { title: string; svg: string }[] = [];
  const specs = [
    ['deletion', 'deletion curves (mean over inputs)', curveSpec(result, 'deletion')],
    ['insertion', 'insertion curves (mean over inputs)', curveSpec(result, 'insertion')],
    ['randomization', 'randomization cascade (mean over inputs)', cascadeSpec(result)],
  ] as const;
  for (const [name, title, spec] of specs) {
    if (!spec) continue;
    const svg = await renderSvg(spec);
    write(`${name}.svg`, svg);
    plots.push({ title, svg });
  }
  write('index.html', renderEvaluationHtml(result, { ...info, plots }));
  return { report: resolve(join(dir, 'index.html')), files };
}
