/**
 * The metric registry: the one list `evaluate`, the CLI choices and the report read. Each
 * entry runs one metric file on what `evaluate` prepared for one method and returns table
 * columns (per-image values), and the curves or cascade it plots.
 */
import { ConvlensError } from '../errors.ts';
import type { Explainer } from '../methods/explainer.ts';
import type { Tensor } from '../runtime/session.ts';
import { deletion, insertion, type CausalOptions } from './causal.ts';
import { complexity } from './complexity.ts';
import { confidenceChange } from './confidence.ts';
import { energyPointingGame } from './energy-pointing-game.ts';
import { infidelity, type InfidelityOptions } from './infidelity.ts';
import { maxSensitivity, type ExplainFn, type SensitivityOptions } from './max-sensitivity.ts';
import { pointingGame, type PointingOptions } from './pointing-game.ts';
import { dataRandomization, modelRandomization, type MapFn, type RandomizationOptions, type RandomizationResult } from './randomization.ts';
import type { Box, Region } from './regions.ts';
import { road, type RoadOptions } from './road.ts';
import { sparseness } from './sparseness.ts';
import { wsolIou, type WsolOptions } from './wsol.ts';

/** Options of every metric, by metric (each falls back to the reference defaults). */
export interface MetricOptions {
  deletion?: CausalOptions;
  insertion?: CausalOptions;
  road?: RoadOptions;
  infidelity?: InfidelityOptions;
  maxSensitivity?: SensitivityOptions;
  pointingGame?: PointingOptions;
  wsol?: WsolOptions;
  randomization?: RandomizationOptions;
}

/** What evaluate prepared for one method. */
export interface MetricJob {
  explainer: Explainer;
  images: Tensor;
  classes: readonly number[];
  /** [H, W] saliency per image (saliencyMap). */
  maps: readonly Float32Array[];
  /** Input-shaped attributions for infidelity: [C, H, W] or [H, W] per image. */
  attributions: readonly Float32Array[];
  /** Raw attributions of any images (max-sensitivity). */
  explainRaw: ExplainFn;
  /** [H, W] saliency maps on any explainer (randomization). */
  explainMaps: MapFn;
  regions?: readonly Region[];
  boxes?: readonly (readonly Box[])[];
  randomLabel?: Explainer;
  size: { height: number; width: number };
  options: MetricOptions & { batchSize?: number; seed?: number };
}

export interface Curve {
  x: number[];
  /** Per image. */
  y: number[][];
}

export interface MetricOutput {
  columns: Record<string, number[]>;
  curves?: Record<string, Curve>;
  cascade?: RandomizationResult;
}

export interface MetricInfo {
  id: string;
  /** Table columns it fills, with which direction is better. */
  columns: Record<string, 'higher' | 'lower'>;
  paper: string;
  /** What it needs beyond the maps. */
  needs?: 'boxes' | 'random-label model';
  run(job: MetricJob): Promise<MetricOutput>;
}

const run = (o: { batchSize?: number; seed?: number }) => ({ ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });

export const metrics: readonly MetricInfo[] = [
  {
    id: 'deletion',
    columns: { deletion: 'lower' },
    paper: 'Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421',
    async run(j) {
      const r = await deletion(j, { ...run(j.options), ...j.options.deletion });
      return { columns: { deletion: r.values }, curves: { deletion: { x: r.fractions, y: r.curves } } };
    },
  },
  {
    id: 'insertion',
    columns: { insertion: 'higher' },
    paper: 'Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421',
    async run(j) {
      const r = await insertion(j, { ...run(j.options), ...j.options.insertion });
      return { columns: { insertion: r.values }, curves: { insertion: { x: r.fractions, y: r.curves } } };
    },
  },
  {
    id: 'road',
    columns: { road: 'higher', 'road-morf': 'lower', 'road-lerf': 'higher' },
    paper: 'Rong et al. 2022, https://arxiv.org/abs/2202.00449',
    async run(j) {
      const r = await road(j, { ...run(j.options), ...j.options.road });
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      return { columns: { road: r.values, 'road-morf': r.morf.map(mean), 'road-lerf': r.lerf.map(mean) } };
    },
  },
  {
    id: 'average-drop',
    columns: { 'average-drop': 'lower', 'increase-in-confidence': 'higher', 'average-gain': 'higher' },
    paper: 'Chattopadhay et al. 2018, https://arxiv.org/abs/1710.11063',
    async run(j) {
      const r = await confidenceChange(j, run(j.options));
      return { columns: { 'average-drop': r.drop, 'increase-in-confidence': r.increase, 'average-gain': r.gain } };
    },
  },
  {
    id: 'infidelity',
    columns: { infidelity: 'lower' },
    paper: 'Yeh et al. 2019, https://arxiv.org/abs/1901.09392',
    async run(j) {
      return { columns: { infidelity: await infidelity(j, { ...run(j.options), ...j.options.infidelity }) } };
    },
  },
  {
    id: 'max-sensitivity',
    columns: { 'max-sensitivity': 'lower' },
    paper: 'Yeh et al. 2019, https://arxiv.org/abs/1901.09392',
    async run(j) {
      const seed = j.options.seed;
      return { columns: { 'max-sensitivity': await maxSensitivity({ images: j.images, classes: j.classes, explain: j.explainRaw }, { ...(seed !== undefined ? { seed } : {}), ...j.options.maxSensitivity }) } };
    },
  },
  {
    id: 'sparseness',
    columns: { sparseness: 'higher' },
    paper: 'Chalasani et al. 2020, https://arxiv.org/abs/1810.06583',
    run: async (j) => ({ columns: { sparseness: sparseness(j.maps) } }),
  },
  {
    id: 'complexity',
    columns: { complexity: 'lower' },
    paper: 'Bhatt et al. 2020, https://arxiv.org/abs/2005.00631',
    run: async (j) => ({ columns: { complexity: complexity(j.maps) } }),
  },
  {
    id: 'randomization',
    columns: { 'randomization-spearman': 'lower', 'randomization-ssim': 'lower' },
    paper: 'Adebayo et al. 2018, https://arxiv.org/abs/1810.03292',
    async run(j) {
      const seed = j.options.seed;
      const r = await modelRandomization({ explainer: j.explainer, images: j.images, classes: j.classes, maps: j.explainMaps, trained: j.maps }, { ...(seed !== undefined ? { seed } : {}), ...j.options.randomization });
      // The table shows the last stage: every listed layer randomized (cascading).
      return { columns: { 'randomization-spearman': r.spearman.at(-1)!, 'randomization-ssim': r.ssim.at(-1)! }, cascade: r };
    },
  },
  {
    id: 'data-randomization',
    columns: { 'data-randomization-spearman': 'lower', 'data-randomization-ssim': 'lower' },
    paper: 'Adebayo et al. 2018, https://arxiv.org/abs/1810.03292 (section 5)',
    needs: 'random-label model',
    async run(j) {
      if (!j.randomLabel) throw new MetricError('data-randomization needs a model trained on permuted labels: pass it as randomLabel (CLI: --random-label-model FILE)');
      const r = await dataRandomization({ explainer: j.explainer, randomLabel: j.randomLabel, images: j.images, classes: j.classes, maps: j.explainMaps });
      return { columns: { 'data-randomization-spearman': r.spearman, 'data-randomization-ssim': r.ssim } };
    },
  },
  {
    id: 'pointing-game',
    columns: { 'pointing-game': 'higher' },
    paper: 'Zhang et al. 2016, https://arxiv.org/abs/1608.00507',
    needs: 'boxes',
    run: async (j) => ({ columns: { 'pointing-game': pointingGame(j.maps, regionsOf(j, 'pointing-game'), j.size, j.options.pointingGame) } }),
  },
  {
    id: 'energy-pointing-game',
    columns: { 'energy-pointing-game': 'higher' },
    paper: 'Wang et al. 2020, https://arxiv.org/abs/1910.01279',
    needs: 'boxes',
    run: async (j) => ({ columns: { 'energy-pointing-game': energyPointingGame(j.maps, regionsOf(j, 'energy-pointing-game'), j.size) } }),
  },
  {
    id: 'wsol',
    columns: { 'wsol-iou': 'higher', 'wsol-accuracy': 'higher' },
    paper: 'Zhou et al. 2016, https://arxiv.org/abs/1512.04150; Choe et al. 2020, https://arxiv.org/abs/2001.07437',
    needs: 'boxes',
    async run(j) {
      if (!j.boxes) throw new MetricError('wsol needs ground-truth boxes: pass boxes (CLI: --boxes boxes.json)');
      const r = wsolIou(j.maps, j.boxes, j.size, j.options.wsol);
      return { columns: { 'wsol-iou': r.values, 'wsol-accuracy': r.values.map((v) => (Number.isNaN(v) ? NaN : v >= 0.5 ? 1 : 0)) } };
    },
  },
];

export const metricIds = metrics.map((m) => m.id);

/** The metrics run when none are named: those that need nothing beyond the model and images. */
export const defaultMetricIds = metrics.filter((m) => !m.needs).map((m) => m.id);

export class MetricError extends ConvlensError {
  override name = 'MetricError';
}

export function getMetric(id: string): MetricInfo {
  const m = metrics.find((x) => x.id === id);
  if (!m) throw new MetricError(`unknown metric '${id}' (choices: ${metricIds.join(', ')})`);
  return m;
}

function regionsOf(j: MetricJob, id: string): readonly Region[] {
  if (!j.regions) throw new MetricError(`${id} needs ground-truth regions: pass boxes or masks (CLI: --boxes boxes.json)`);
  return j.regions;
}
