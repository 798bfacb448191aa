/**
 * The work behind `convlens explain` and `convlens demo`: load a model and inputs, run the
 * methods, write one PNG per input and method (and layer), optional raw .npy files, and
 * the HTML report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defaultOpset } from '../model/model.ts';
import { summarize } from '../inspect/summary.ts';
import { encodeNpy } from '../runtime/npy.ts';
import type { ResizeMode } from '../input/image-file.ts';
import { Explainer } from '../methods/explainer.ts';
import { getMethod } from '../methods/registry.ts';
import type { CommonOptions, Explanation } from '../methods/types.ts';
import { softmaxRows, topClasses } from '../targets/targets.ts';
import { overlay, gradientImage } from '../viz/render.ts';
import type { ColormapName } from '../viz/colormaps.ts';
import type { RgbImage } from '../viz/image.ts';
import { encodePng } from '../viz/png.ts';
import { renderReport } from '../report/html.ts';
import type { ReportCell, ReportData, ReportInput } from '../report/types.ts';
import { Progress } from './progress.ts';
import { loadModelAndInputs } from './load.ts';

export interface ExplainJob {
  model: string;
  inputs: string[];
  methods: string[];
  out: string;
  preset: string;
  resize: ResizeMode;
  size?: { height: number; width: number };
  labels?: string[];
  raw: boolean;
  colormap: ColormapName;
  alpha: number;
  /** Options passed to every method (target, layers, batch size, seed, method options). */
  options: CommonOptions & Record<string, unknown>;
  title?: string;
}

export interface ExplainSummary {
  report: string;
  files: string[];
  inputs: { name: string; top: { class: number; label: string; probability: number }[] }[];
  methods: { id: string; ms: number }[];
}

/** Render one result: maps over the input image, attribution images on their own. */
export function renderExplanation(e: Explanation, image: RgbImage, colormap: ColormapName, alpha: number): RgbImage {
  if (e.kind === 'map') return overlay(image, e.values, { colormap, alpha });
  return gradientImage(e.values, e.dims[2]!, e.dims[1]!, { mode: 'minmax' });
}

const labelOf = (labels: string[] | undefined, c: number) => labels?.[c] ?? `class ${c}`;

export async function runExplain(job: ExplainJob): Promise<ExplainSummary> {
  for (const id of job.methods) getMethod(id); // unknown names fail before any work
  const { model, loaded } = await loadModelAndInputs(job.model, job.inputs, job);
  mkdirSync(job.out, { recursive: true });
  const progress = new Progress();
  await using explainer = await Explainer.create(model);
  const { scores } = await explainer.predict(loaded.tensor);
  const probabilities = softmaxRows(scores);
  const k = scores.data.length / scores.dims[0]!;
  const tops = topClasses(scores, Math.min(5, k));
  const files: string[] = [];
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(job.out, name);
    writeFileSync(path, bytes);
    files.push(path);
  };
  const cells: ReportCell[][] = loaded.names.map(() => []);
  const methods: ReportData['methods'] = [];
  for (const [m, id] of job.methods.entries()) {
    progress.update(`explain: ${id} (${m + 1}/${job.methods.length}) on ${loaded.names.length} input(s)`);
    const method = getMethod(id);
    const t0 = performance.now();
    const results = await explainer.explain(loaded.tensor, id, job.options);
    const ms = performance.now() - t0;
    methods.push({ id, paper: method.paper, summary: method.summary, ms });
    const layers = [...new Set(results.map((r) => r.layer).filter((l): l is string => l !== undefined))];
    for (const r of results) {
      const stem = loaded.names[r.image]!;
      const suffix = layers.length > 1 ? `.${r.layer === 'fused' ? 'fused' : layers.indexOf(r.layer!)}` : '';
      const rendered = await encodePng(renderExplanation(r, loaded.images[r.image]!, job.colormap, job.alpha));
      write(`${stem}.${id}${suffix}.png`, rendered);
      if (job.raw) {
        const values = r.kind === 'map' ? r.values : r.raw;
        write(`${stem}.${id}${suffix}.npy`, encodeNpy({ data: values, dims: r.kind === 'map' ? r.dims : r.rawDims }));
      }
      cells[r.image]!.push({
        method: id,
        png: rendered,
        ...(r.layer !== undefined ? { layer: r.layer } : {}),
        ...(r.class !== undefined ? { class: r.class, label: labelOf(job.labels, r.class) } : {}),
      });
    }
  }
  progress.done();
  const inputs: ReportInput[] = [];
  for (const [i, name] of loaded.names.entries()) {
    inputs.push({
      name,
      png: await encodePng(loaded.images[i]!),
      predictions: tops[i]!.map((c) => ({ class: c, label: labelOf(job.labels, c), score: scores.data[i * k + c]!, probability: probabilities[i * k + c]! })),
      cells: cells[i]!,
    });
  }
  const { totals } = summarize(await explainer.specialize(loaded.tensor));
  const report: ReportData = {
    title: job.title ?? `convlens: ${basename(job.model)}`,
    generated: new Date().toISOString(),
    model: { name: basename(job.model), inputShape: loaded.tensor.dims.slice(1), opset: defaultOpset(model), parameters: totals.parameters, ops: Object.entries(totals.nodes).map(([op, count]) => ({ op, count })) },
    settings: settingsOf(job),
    methods,
    inputs,
  };
  write('index.html', new TextEncoder().encode(renderReport(report)));
  return {
    report: resolve(join(job.out, 'index.html')),
    files,
    inputs: loaded.names.map((name, i) => ({ name, top: tops[i]!.map((c) => ({ class: c, label: labelOf(job.labels, c), probability: probabilities[i * k + c]! })) })),
    methods: methods.map(({ id, ms }) => ({ id, ms })),
  };
}

function settingsOf(job: ExplainJob): Record<string, string> {
  const o = job.options;
  const show = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const settings: Record<string, string> = {
    target: show(o.target ?? 'auto'),
    layers: o.targetLayers ? show(o.targetLayers) : 'default (last spatial layer)',
    preset: job.preset,
    resize: job.resize,
    colormap: job.colormap,
    alpha: String(job.alpha),
  };
  for (const [key, value] of Object.entries(o)) {
    if (!['target', 'targetLayers'].includes(key) && value !== undefined) settings[key] = show(value);
  }
  return settings;
}
