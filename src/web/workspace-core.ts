/**
 * What the explorer holds, independent of where it runs: one model (a Lens), the images
 * the user gave or the bundled samples, and caches of what was computed for them. The
 * platform supplies what differs between Node and the browser: decoding an image to the
 * pixels the model sees, PNG encoding and fresh image ids. The static explorer runs this
 * in a Web Worker (static/browser-platform.ts); nothing here imports a Node module.
 * Calls that run the model are made one at a time by the host (the server's job queue,
 * the worker's queue).
 */
import { ConvlensError } from '../errors.ts';
import { parseModel } from '../model/model.ts';
import type { Specialized } from '../runtime/specialize.ts';
import type { Tensor } from '../runtime/session.ts';
import { CancelledError, type RunHooks } from '../methods/context.ts';
import { deletion, insertion } from '../metrics/causal.ts';
import { saliencyMap } from '../metrics/common.ts';
import { getMethod } from '../methods/registry.ts';
import type { Explanation } from '../methods/types.ts';
import { convLayers, spatialLayers, type LayerInfo } from '../targets/layers.ts';
import { InputError } from '../input/layout.ts';
import { imageToTensor } from '../input/preprocess.ts';
import type { ResizeMode } from '../input/crop-plan.ts';
import { summarize } from '../inspect/summary.ts';
import { modelGraph } from '../inspect/graph.ts';
import { layoutGraph, renderSvg } from '../inspect/graph-svg.ts';
import { makeGrid, renderGrid, type FeatureMapSet } from '../inspect/feature-maps.ts';
import { filterImages, weightLayers } from '../inspect/filters.ts';
import { applyColormap, type ColormapName } from '../viz/colormaps.ts';
import type { RgbImage } from '../viz/image.ts';
import { Lens } from '../app/lens.ts';
import { readMetadataDefaults } from '../app/model-defaults.ts';
import type { ActivationsResponse, CurvesResponse, ExplainResponse, ImageEntry, LayerEntry, ModelInfo, PredictResponse } from './api-types.ts';
import { floatsToBase64, renderResult } from './render.ts';
import { bytesToBase64 } from '../base64.ts';

/** A request that names something that does not exist (HTTP 404). */
export class NotFoundError extends ConvlensError {
  override name = 'NotFoundError';
}

export interface ModelSettings {
  /** Display name (the file name). */
  name: string;
  /** Input normalization preset (default: the model's own, else 'imagenet' for color models, 'unit' for gray). */
  preset?: string;
  /** How images are fitted to the model's size (default: the model's own, else 'center-crop'). */
  resize?: ResizeMode;
  /** Class names, one per output class (default: the model's own). */
  labels?: string[];
  /** Input size when the model leaves height/width symbolic. */
  size?: { height: number; width: number };
}

/** What differs between the hosts of a workspace. */
export interface WorkspacePlatform {
  /** Encoded image bytes -> the height x width RGB image the model sees (see input/image-file.ts for the rules). */
  decodeImage(bytes: Uint8Array, fit: { height: number; width: number; resize: ResizeMode; name: string }): Promise<RgbImage>;
  encodePng(image: RgbImage): Promise<Uint8Array>;
  /** A fresh, unguessable image id. */
  newImageId(): string;
}

interface LoadedModel {
  generation: number;
  info: ModelInfo;
  lens: Lens;
  specialized: Specialized;
  layers: LayerInfo[];
  convTensors: string[];
}

interface StoredImage {
  id: string;
  name: string;
  bytes: Uint8Array;
  sample: boolean;
  /** The image fitted to the model of `generation`, and its input tensor. */
  prepared?: { generation: number; image: RgbImage; tensor: Tensor; png: Uint8Array };
}

const MAX_UPLOADED_IMAGES = 200;
const MAX_CACHED_EXPLANATIONS = 64;

/** A progress callback that passes a fraction on at most every `ms` (methods may report thousands of steps). */
export function throttledProgress(post: (fraction: number) => void, ms = 100): (fraction: number) => void {
  let last = -Infinity;
  return (fraction) => {
    const now = performance.now();
    if (now - last < ms) return;
    last = now;
    post(fraction);
  };
}

/** What names an explanation (the explain request without its drawing settings). */
export interface ExplainArgs {
  image: string;
  method: string;
  layer?: string | number;
  target?: number | 'auto';
  options?: Record<string, unknown>;
}

export class WorkspaceCore {
  private model: LoadedModel | undefined;
  private generation = 0;
  private readonly images = new Map<string, StoredImage>();
  private readonly explanations = new Map<string, { e: Explanation; ms: number }>();
  private activationCache: { key: string; sets: Map<string, FeatureMapSet> } | undefined;
  private graphSvg: string | undefined;

  constructor(private readonly platform: WorkspacePlatform) {}

  get current(): ModelInfo | undefined {
    return this.model?.info;
  }

  /** Parse, check and load a model; the previous one is released once the new one works. */
  async loadModel(bytes: Uint8Array, settings: ModelSettings): Promise<ModelInfo> {
    const proto = parseModel(bytes, { source: `'${settings.name}'` });
    // The model's own defaults (convlens annotate) unless the request gives its own.
    const lens = await Lens.open(proto, {
      defaults: readMetadataDefaults(proto, `'${settings.name}'`),
      fallbackName: settings.name,
      ...(settings.preset !== undefined ? { preset: settings.preset } : {}),
      ...(settings.resize !== undefined ? { resize: settings.resize } : {}),
      ...(settings.labels !== undefined ? { labels: settings.labels } : {}),
      ...(settings.size !== undefined ? { size: settings.size } : {}),
    });
    let loaded: LoadedModel;
    try {
      loaded = await this.describe(lens);
    } catch (e) {
      await lens.release();
      throw e;
    }
    const previous = this.model;
    this.model = loaded;
    this.explanations.clear();
    this.activationCache = undefined;
    this.graphSvg = undefined;
    await previous?.lens.release();
    return loaded.info;
  }

  private async describe(lens: Lens): Promise<LoadedModel> {
    const { spec } = lens;
    const inputShape = lens.inputShape(1);
    const specialized = await lens.specialized();
    const { scores } = await lens.predict({ data: new Float32Array(inputShape.reduce((a, b) => a * b, 1)), dims: inputShape });
    const layers = spatialLayers(specialized);
    const convs = new Set(convLayers(specialized).map((l) => l.tensor));
    const summary = summarize(specialized);
    const info: ModelInfo = {
      name: spec.name,
      inputShape,
      layout: spec.layout.layout,
      channels: spec.layout.channels,
      height: spec.size!.height,
      width: spec.size!.width,
      preset: typeof spec.preset === 'string' ? spec.preset : 'custom',
      resize: spec.resize,
      classes: scores.data.length,
      labels: spec.labels ?? null,
      layers: layers.map((l): LayerEntry => ({ tensor: l.tensor, node: l.node, op: l.op, shape: l.shape, index: l.index, conv: convs.has(l.tensor) })),
      defaultLayer: layers[layers.length - 1]?.tensor ?? null,
      filterLayers: weightLayers(specialized).filter((l) => l.op === 'Conv' && l.value.dims.length === 4).map((l) => l.name),
      summary: {
        parameters: summary.totals.parameters,
        macs: summary.totals.macs,
        nodes: summary.totals.nodes,
        rows: summary.rows.filter((r) => r.kind === 'compute').map(({ node, op, output, shape, parameters, macs }) => ({ node, op, output, shape, parameters, macs })),
      },
    };
    return { generation: ++this.generation, info, lens, specialized, layers, convTensors: [...convs] };
  }

  setLabels(labels: string[]): ModelInfo {
    const m = this.loaded();
    if (labels.length !== m.info.classes) throw new InputError(`${labels.length} labels for a model with ${m.info.classes} classes: give one label per class`);
    m.info = { ...m.info, labels };
    return m.info;
  }

  private loaded(): LoadedModel {
    if (!this.model) throw new ConvlensError('no model is loaded: open an ONNX file first');
    return this.model;
  }

  /** Store an image (checked by decoding it for the current model). */
  async addImage(bytes: Uint8Array, name: string, sample = false): Promise<ImageEntry> {
    const id = sample ? `sample-${name}` : this.platform.newImageId();
    const stored: StoredImage = { id, name, bytes, sample };
    if (this.model) await this.prepare(stored);
    this.images.set(id, stored);
    const uploaded = [...this.images.values()].filter((i) => !i.sample);
    if (uploaded.length > MAX_UPLOADED_IMAGES) this.images.delete(uploaded[0]!.id);
    const { width, height } = this.model?.info ?? { width: 0, height: 0 };
    return { id, name, width, height };
  }

  private image(id: string): StoredImage {
    const image = this.images.get(id);
    if (!image) throw new NotFoundError(`unknown image id '${id}': add the image first or pick a sample`);
    return image;
  }

  private async prepare(stored: StoredImage): Promise<{ image: RgbImage; tensor: Tensor; png: Uint8Array }> {
    const m = this.loaded();
    if (stored.prepared?.generation === m.generation) return stored.prepared;
    const image = await this.platform.decodeImage(stored.bytes, { height: m.info.height, width: m.info.width, resize: m.info.resize, name: stored.name });
    const tensor = imageToTensor([image], m.lens.spec.layout, m.lens.spec.preset);
    stored.prepared = { generation: m.generation, image, tensor, png: await this.platform.encodePng(image) };
    return stored.prepared;
  }

  /** The image as the model sees it (resized / cropped), PNG. */
  async imagePng(id: string): Promise<Uint8Array> {
    return (await this.prepare(this.image(id))).png;
  }

  /** The image as the model sees it, as RGB pixels. */
  async imageRgb(id: string): Promise<RgbImage> {
    return (await this.prepare(this.image(id))).image;
  }

  labelOf(c: number): string {
    return this.model?.info.labels?.[c] ?? `class ${c}`;
  }

  async predict(id: string, k: number): Promise<PredictResponse> {
    const m = this.loaded();
    const { tensor } = await this.prepare(this.image(id));
    const t0 = performance.now();
    const { top } = await m.lens.predict(tensor, k);
    const ms = performance.now() - t0;
    return { image: id, top: top[0]!.map((t) => ({ ...t, label: this.labelOf(t.class) })), ms };
  }

  /** A spatial layer by tensor name, node name or index in the layer list. */
  layer(ref: string | number): LayerInfo {
    const m = this.loaded();
    const l = typeof ref === 'number' ? m.layers[ref] : (m.layers.find((x) => x.tensor === ref) ?? m.layers.find((x) => x.node === ref));
    if (!l) throw new InputError(`unknown layer ${JSON.stringify(ref)}: the model info lists the ${m.layers.length} spatial layers`);
    return l;
  }

  /** The explanation of a request, computed or from the cache. */
  private async explanation(req: ExplainArgs, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<{ entry: { e: Explanation; ms: number }; cached: boolean; prepared: { image: RgbImage; tensor: Tensor } }> {
    const m = this.loaded();
    const method = getMethod(req.method);
    const prepared = await this.prepare(this.image(req.image));
    const layer = method.usesLayers && req.layer !== undefined ? this.layer(req.layer).tensor : undefined;
    const target = req.target ?? 'auto';
    if (typeof target === 'number' && target >= m.info.classes) {
      throw new InputError(`target ${target} is out of range: the model has ${m.info.classes} classes (0..${m.info.classes - 1})`);
    }
    const key = JSON.stringify([m.generation, req.image, req.method, layer ?? null, target, req.options ?? null]);
    let entry = this.explanations.get(key);
    const cached = entry !== undefined;
    if (!entry) {
      const t0 = performance.now();
      const hooks: RunHooks = { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) };
      const options = { ...req.options, target: target === 'auto' ? ('auto' as const) : [target], ...(layer !== undefined ? { targetLayers: [layer] } : {}) };
      const results = await m.lens.explain(prepared.tensor, req.method, options, hooks);
      entry = { e: results[0]!, ms: performance.now() - t0 };
      this.explanations.set(key, entry);
      if (this.explanations.size > MAX_CACHED_EXPLANATIONS) this.explanations.delete(this.explanations.keys().next().value!);
    }
    return { entry, cached, prepared };
  }

  /**
   * Deletion and insertion curves of an explanation's map (the metrics of `convlens
   * evaluate`, Petsiuk et al. 2018): the class probability as the most salient pixels are
   * removed (set to 0), or restored into a blurred copy, in `steps` equal steps.
   */
  async curves(req: ExplainArgs, signal?: AbortSignal, steps = 32): Promise<CurvesResponse> {
    const m = this.loaded();
    const { entry, prepared } = await this.explanation(req, signal);
    const t0 = performance.now();
    const { e } = entry;
    const classes = [e.class ?? (await m.lens.predict(prepared.tensor, 1)).top[0]![0]!.class];
    const input = { explainer: m.lens.explainer, images: prepared.tensor, maps: [saliencyMap(e)], classes };
    const del = await deletion(input, { steps });
    if (signal?.aborted) throw new CancelledError('the request was cancelled');
    const ins = await insertion(input, { steps });
    return { method: e.method, class: e.class ?? null, fractions: del.fractions, deletion: del.curves[0]!, insertion: ins.curves[0]!, deletionAuc: del.values[0]!, insertionAuc: ins.values[0]!, ms: performance.now() - t0 };
  }

  /**
   * `signal`: a newer request stops this one between onnxruntime runs (CancelledError);
   * `onProgress`: the fraction of the method done, as it advances (long perturbation methods).
   */
  async explain(req: ExplainArgs & { colormap: ColormapName; alpha: number }, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<ExplainResponse> {
    const { entry, cached, prepared } = await this.explanation(req, signal, onProgress);
    const { e, ms } = entry;
    const rendered = renderResult(e.kind, e.values, e.dims, prepared.image, req.colormap, req.alpha, getMethod(e.method).signed === true);
    return {
      method: e.method,
      kind: e.kind,
      png: bytesToBase64(await this.platform.encodePng(rendered)),
      map: floatsToBase64(e.values),
      dims: e.dims,
      class: e.class ?? null,
      label: e.class === undefined ? null : this.labelOf(e.class),
      layer: e.layer ?? null,
      ms: cached ? 0 : ms,
      cached,
      warnings: e.warnings ?? [],
    };
  }

  /**
   * One layer's activations for an image. Every conv layer is read in one forward run (one
   * compiled graph for the whole activation overview) and kept for the last image asked.
   */
  async activations(id: string, ref: string | number, limit: number): Promise<ActivationsResponse> {
    const m = this.loaded();
    const { tensor } = await this.prepare(this.image(id));
    const layer = this.layer(ref);
    const t0 = performance.now();
    const key = JSON.stringify([m.generation, id]);
    if (this.activationCache?.key !== key) this.activationCache = { key, sets: new Map() };
    let set = this.activationCache.sets.get(layer.tensor);
    if (!set) {
      const wanted = m.convTensors.includes(layer.tensor) ? m.convTensors : [layer.tensor];
      for (const s of await m.lens.featureMaps(tensor, wanted)) this.activationCache.sets.set(s.layer.tensor, s);
      set = this.activationCache.sets.get(layer.tensor)!;
    }
    // The `limit` most active channels (by mean) when the layer has more, in channel order.
    const order = set.channels.map((c, k) => ({ c, k, mean: set.means[k]! }));
    const shown = (order.length > limit ? [...order].sort((a, b) => b.mean - a.mean).slice(0, limit) : order).sort((a, b) => a.c - b.c);
    const [, h, w] = set.maps.dims as [number, number, number];
    const plane = h * w;
    const data = new Float32Array(shown.length * plane);
    shown.forEach((s, i) => data.set(set.maps.data.subarray(s.k * plane, (s.k + 1) * plane), i * plane));
    const grid = makeGrid({ data, dims: [shown.length, h, w] }, { nrow: Math.ceil(Math.sqrt(shown.length)), channels: shown.map((s) => s.c) });
    const channels = await Promise.all(
      shown.map(async (s, i) => {
        // make_grid's per-map normalization of one unpadded tile.
        const tile = makeGrid({ data: data.subarray(i * plane, (i + 1) * plane), dims: [1, h, w] }, { padding: 0 });
        return { channel: s.c, mean: s.mean, png: bytesToBase64(await this.platform.encodePng(applyColormap(tile.data, w, h, 'viridis'))) };
      }),
    );
    return {
      layer: layer.tensor,
      shape: layer.shape,
      grid: bytesToBase64(await this.platform.encodePng(renderGrid(grid))),
      channels,
      total: set.channels.length,
      ms: performance.now() - t0,
    };
  }

  graph(): string {
    const m = this.loaded();
    this.graphSvg ??= renderSvg(layoutGraph(modelGraph(m.specialized)), { title: m.info.name });
    return this.graphSvg;
  }

  async filters(layer: string): Promise<Uint8Array> {
    const m = this.loaded();
    if (!m.info.filterLayers.includes(layer)) {
      throw new InputError(`layer '${layer}' has no 2-D conv kernels to show; choose one of: ${m.info.filterLayers.slice(0, 20).join(', ')}`);
    }
    return this.platform.encodePng(filterImages(m.specialized, layer).grid);
  }

  async release(): Promise<void> {
    await this.model?.lens.release();
    this.model = undefined;
  }
}
