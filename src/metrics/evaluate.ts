/**
 * `evaluate(explainer, images, {methods, metrics})`: every metric on every method's maps,
 * summarized as a table of mean and standard error per metric column and method, with the
 * deletion/insertion mean curves and the randomization cascade for plotting.
 */
import { OptionError } from '../errors.ts';
import { geometryOf, type Explainer } from '../methods/explainer.ts';
import { getMethod } from '../methods/registry.ts';
import type { CommonOptions, Explanation } from '../methods/types.ts';
import type { Tensor } from '../runtime/session.ts';
import { meanStderr, predictedClasses, saliencyMap } from './common.ts';
import { defaultMetricIds, getMetric, type MetricJob, type MetricOptions } from './registry.ts';
import type { Box, Region } from './regions.ts';

export interface EvaluateOptions extends MetricOptions {
  methods: readonly string[];
  /** Metric ids (default: every metric that needs no boxes and no second model). */
  metrics?: readonly string[];
  /** Options passed to every method (layers, method options); the target is set by evaluate. */
  methodOptions?: CommonOptions & Record<string, unknown>;
  /** The explained class per image (default: the predicted class, as RISE). */
  classes?: readonly number[];
  /** Ground-truth boxes per image ([x0, y0, x1, y1) in input pixels), for the localization metrics. */
  boxes?: readonly (readonly Box[])[];
  /** Ground-truth masks per image instead of boxes (pointing games only). */
  masks?: readonly Uint8Array[];
  /** A model trained on permuted labels, for data-randomization. */
  randomLabel?: Explainer;
  batchSize?: number;
  seed?: number;
  /** Called before each (method, metric) step and at the end (done === total). */
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface TableRow {
  metric: string;
  method: string;
  mean: number;
  stderr: number;
  /** Images with a finite value. */
  n: number;
  better: 'higher' | 'lower';
}

export interface EvaluationResult {
  methods: string[];
  metrics: string[];
  classes: number[];
  table: TableRow[];
  /** perImage[method][column] = values per image. */
  perImage: Record<string, Record<string, number[]>>;
  /** Mean curves: curves[metric][method]. */
  curves: Record<string, Record<string, { x: number[]; y: number[] }>>;
  /** Mean similarity per randomization stage: cascades[method]. */
  cascades: Record<string, { layers: string[]; spearman: number[]; ssim: number[] }>;
  /** Seconds per method and metric. */
  seconds: Record<string, Record<string, number>>;
}

/** One explanation per image: a single layer's, or the fused one. */
function onePerImage(results: readonly Explanation[], n: number, method: string): Explanation[] {
  const out: Explanation[] = [];
  for (let i = 0; i < n; i++) {
    const own = results.filter((r) => r.image === i);
    const pick = own.length === 1 ? own[0] : own.find((r) => r.layer === 'fused');
    if (!pick) throw new OptionError(`${method} gave ${own.length} maps for image ${i}: evaluate needs one map per image; give one layer, or fuse the layers`);
    out.push(pick);
  }
  return out;
}

export async function evaluate(explainer: Explainer, images: Tensor, options: EvaluateOptions): Promise<EvaluationResult> {
  const metricList = [...(options.metrics ?? defaultMetricIds)];
  const infos = metricList.map(getMetric);
  options.methods.forEach((m) => getMethod(m));
  if (options.methods.length === 0) throw new OptionError('evaluate needs at least one method');
  const n = images.dims[0]!;
  const g = geometryOf(images.dims);
  const classes = [...(options.classes ?? (await predictedClasses(explainer, images)))];
  const regions: Region[] | undefined = options.masks ? options.masks.map((mask) => ({ mask })) : options.boxes?.map((boxes) => ({ boxes }));
  for (const list of [options.boxes, options.masks]) {
    if (list && list.length !== n) throw new OptionError(`${list.length} ground-truth entries for ${n} images: give one per image`);
  }
  const result: EvaluationResult = { methods: [...options.methods], metrics: metricList, classes, table: [], perImage: {}, curves: {}, cascades: {}, seconds: {} };
  const total = options.methods.length * (infos.length + 1);
  let done = 0;
  for (const method of options.methods) {
    options.onProgress?.(done, total, `${method}: maps`);
    const t0 = performance.now();
    const explainWith = async (ex: Explainer, imgs: Tensor, cls: readonly number[]) =>
      onePerImage(await ex.explain(imgs, method, { ...options.methodOptions, target: [...cls], ...(options.batchSize ? { batchSize: options.batchSize } : {}) }), imgs.dims[0]!, method);
    const explanations = await explainWith(explainer, images, classes);
    done++;
    const seconds: Record<string, number> = { maps: (performance.now() - t0) / 1000 };
    const job: MetricJob = {
      explainer,
      images,
      classes,
      maps: explanations.map(saliencyMap),
      attributions: explanations.map((e) => (e.kind === 'image' ? e.raw : e.values)),
      explainRaw: async (imgs, cls) => (await explainWith(explainer, imgs, cls)).map((e) => e.raw),
      explainMaps: async (ex, imgs, cls) => (await explainWith(ex, imgs, cls)).map(saliencyMap),
      ...(regions ? { regions } : {}),
      ...(options.boxes ? { boxes: options.boxes } : {}),
      ...(options.randomLabel ? { randomLabel: options.randomLabel } : {}),
      size: { height: g.height, width: g.width },
      options,
    };
    const perImage: Record<string, number[]> = {};
    for (const info of infos) {
      options.onProgress?.(done, total, `${method}: ${info.id}`);
      const t = performance.now();
      const out = await info.run(job);
      seconds[info.id] = (performance.now() - t) / 1000;
      done++;
      for (const [column, values] of Object.entries(out.columns)) {
        perImage[column] = values;
        result.table.push({ metric: column, method, ...meanStderr(values), better: info.columns[column]! });
      }
      for (const [name, curve] of Object.entries(out.curves ?? {})) {
        (result.curves[name] ??= {})[method] = { x: curve.x, y: curve.x.map((_, k) => curve.y.reduce((a, c) => a + c[k]!, 0) / curve.y.length) };
      }
      if (out.cascade) {
        const mean = (rows: number[][]) => rows.map((r) => meanStderr(r).mean);
        result.cascades[method] = { layers: out.cascade.layers, spearman: mean(out.cascade.spearman), ssim: mean(out.cascade.ssim) };
      }
    }
    result.perImage[method] = perImage;
    result.seconds[method] = seconds;
  }
  options.onProgress?.(total, total, 'done');
  return result;
}
