/**
 * The explorer page: pick a model and an image, see the predictions, compare explanation
 * methods side by side, browse activations and the structure graph. Plain DOM code; it
 * talks to an ExplorerBackend (the `convlens serve` API, or a Web Worker in the static
 * site) and draws overlays with the same viz code the workspace uses (so colormap and
 * opacity changes need no round trip). A new request aborts the one it replaces.
 */
import type { CurvesResponse, ExplainResponse, LayerEntry, MethodEntry, ModelInfo, Prediction, SampleEntry } from '../api-types.ts';
import type { OptionSpec } from '../../methods/options.ts';
import { encodeNpy } from '../../runtime/npy.ts';
import { colormapNames, type ColormapName } from '../../viz/colormaps.ts';
import { rgbToRgba, type RgbImage } from '../../viz/image.ts';
import { base64ToFloats, renderResult } from '../render.ts';
import { isAbort, type ExplorerBackend } from './backend.ts';

let backend: ExplorerBackend;

type Child = Node | string | null | undefined | false;

/** A tiny element builder: h('div.card', {title: 'x'}, child, ...). */
function h<K extends keyof HTMLElementTagNameMap>(tag: K | `${K}.${string}` | `${K}#${string}`, attrs: Record<string, string | number | boolean | EventListener> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name as K);
  for (const part of rest) {
    if (part.startsWith('.')) el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (typeof v === 'boolean') {
      if (v) el.setAttribute(k, '');
    } else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Elements matching a selector, as an array (the DOM lib here has no iterable NodeList). */
const all = <T extends Element>(root: ParentNode, selector: string): T[] => Array.from(root.querySelectorAll<T>(selector));

const $ = <T extends HTMLElement>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
};

interface Result {
  response: ExplainResponse;
  values: Float32Array;
}

interface State {
  model?: ModelInfo;
  methods: MethodEntry[];
  samples: SampleEntry[];
  image?: { id: string; name: string; rgb: RgbImage };
  predictions: Prediction[];
  selected: Set<string>;
  layer: string;
  target: number | 'auto';
  colormap: ColormapName;
  alpha: number;
  results: Map<string, Result>;
  /** Per method, the options the user changed from their defaults (sent with each explain). */
  options: Map<string, Record<string, unknown>>;
}

const state: State = {
  methods: [],
  samples: [],
  predictions: [],
  selected: new Set(['grad-cam']),
  layer: '',
  target: 'auto',
  colormap: 'jet',
  alpha: 0.5,
  results: new Map(),
  options: new Map(),
};

/** The running image/explain requests; aborted when a newer one replaces them. */
let inflight: AbortController | undefined;
function replaceRequests(): AbortSignal {
  inflight?.abort();
  inflight = new AbortController();
  return inflight.signal;
}

function setStatus(text: string, kind: 'info' | 'error' | 'busy' = 'info'): void {
  const el = $('#status');
  el.textContent = text;
  el.dataset['kind'] = kind;
}

function fail(e: unknown): void {
  if (isAbort(e)) return;
  setStatus((e as Error).message ?? String(e), 'error');
}

const shape = (dims: readonly number[]) => dims.join('×');
const labelOf = (c: number) => state.model?.labels?.[c] ?? `class ${c}`;
/** "281: tabby", or "class 281" for a model without labels (never "class 281: class 281"). */
const classText = (c: number, label: string | null = labelOf(c)) => (label && label !== `class ${c}` ? `${c}: ${label}` : `class ${c}`);

/** Enter and Space activate an element that is not a button (a list row, a thumbnail, a graph box). */
function pressable<T extends Element>(el: T, action: () => void): T {
  el.setAttribute('tabindex', '0');
  if (!el.hasAttribute('role')) el.setAttribute('role', 'button');
  el.addEventListener('keydown', (ev) => {
    const key = (ev as KeyboardEvent).key;
    if (key !== 'Enter' && key !== ' ') return;
    ev.preventDefault();
    action();
  });
  return el;
}

function drawRgb(canvas: HTMLCanvasElement, image: RgbImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(new ImageData(rgbToRgba(image).data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
}

function download(name: string, blob: Blob): void {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// ---- model ---------------------------------------------------------------------------

async function loadModel(model: ModelInfo | null): Promise<void> {
  if (!model) {
    setStatus('open an ONNX model (Open .onnx, or drop it on the page)');
    return;
  }
  state.model = model;
  state.results.clear();
  state.layer = model.defaultLayer ?? '';
  state.target = 'auto';
  $('#model-name').textContent = model.name;
  $('#model-shape').textContent = `input ${shape(model.inputShape)} · ${model.classes} classes · ${model.preset}`;
  renderLayerSelect();
  renderModelTab();
  $('#graph').replaceChildren();
  $('#activations').replaceChildren();
  renderActivationPicker();
  const first = state.image ? undefined : state.samples[0];
  if (first) await selectImage(first.id, first.name);
  else if (state.image) await selectImage(state.image.id, state.image.name);
}

function renderLayerSelect(): void {
  const select = $<HTMLSelectElement>('#layer');
  const layers = state.model?.layers ?? [];
  select.replaceChildren(
    ...layers.map((l) => h('option', { value: l.tensor, ...(l.tensor === state.layer ? { selected: true } : {}) }, `${l.index}: ${l.tensor} (${l.op}) ${shape(l.shape.slice(1))}`)),
  );
  select.value = state.layer;
}

function renderTargetSelect(): void {
  const select = $<HTMLSelectElement>('#target');
  const model = state.model;
  if (!model) return;
  const predicted = new Set(state.predictions.map((p) => p.class));
  const options = [h('option', { value: 'auto' }, 'predicted class (auto)')];
  const group = h('optgroup', { label: 'top predictions' }, ...state.predictions.map((p) => h('option', { value: String(p.class) }, `${classText(p.class, p.label)} (${(100 * p.probability).toFixed(1)}%)`)));
  const all = h('optgroup', { label: 'all classes' });
  for (let c = 0; c < Math.min(model.classes, 1000); c++) if (!predicted.has(c)) all.append(h('option', { value: String(c) }, classText(c)));
  select.replaceChildren(...options, group, all);
  select.value = String(state.target);
}

function renderModelTab(): void {
  const m = state.model!;
  const rows = m.summary.rows.map((r) => h('tr', {}, h('td', {}, r.node), h('td', {}, r.op), h('td', {}, shape(r.shape)), h('td.num', {}, r.parameters.toLocaleString()), h('td.num', {}, r.macs.toLocaleString())));
  const filterSelect = h('select#filter-layer', { onchange: () => showFilters(filterSelect.value) }, ...m.filterLayers.map((l) => h('option', { value: l }, l)));
  $('#model-info').replaceChildren(
    h('p', {}, `${m.name}: ${m.summary.parameters.toLocaleString()} parameters, ${m.summary.macs.toLocaleString()} multiply-accumulates per image; input ${shape(m.inputShape)} (${m.layout.toUpperCase()}), preset ${m.preset}, resize ${m.resize}.`),
    m.filterLayers.length > 0 ? h('div.filters', {}, h('label', {}, 'Kernels of ', filterSelect), h('img#filter-image', { alt: 'filters', class: 'pixelated' })) : '',
    h('table.summary', {}, h('thead', {}, h('tr', {}, h('th', {}, 'node'), h('th', {}, 'op'), h('th', {}, 'output'), h('th', {}, 'parameters'), h('th', {}, 'MACs'))), h('tbody', {}, ...rows)),
  );
  if (m.filterLayers[0]) showFilters(m.filterLayers[0]);
}

function showFilters(layer: string): void {
  const img = $<HTMLImageElement>('#filter-image');
  img.onload = () => (img.style.width = `${Math.min(640, img.naturalWidth * 8)}px`);
  backend.filtersUrl(layer).then((url) => (img.src = url), fail);
}

async function uploadModel(file: File): Promise<void> {
  setStatus(`uploading ${file.name} (${(file.size / 1e6).toFixed(1)} MB)…`, 'busy');
  try {
    const model = await backend.uploadModel(file);
    await loadModel(model);
    setStatus(`loaded ${model.name}`);
  } catch (e) {
    fail(e);
  }
}

// ---- images and predictions ------------------------------------------------------------

function renderSamples(): void {
  $('#samples').replaceChildren(
    ...state.samples.map((s) =>
      h('button.sample', { type: 'button', title: s.name, 'data-id': s.id, onclick: () => void selectImage(s.id, s.name).catch(fail) }, h('img', { src: backend.sampleUrl(s.name), alt: s.name }), h('span', {}, s.name)),
    ),
  );
}

async function uploadImage(file: File): Promise<void> {
  setStatus(`uploading ${file.name}…`, 'busy');
  try {
    const entry = await backend.uploadImage(file);
    await selectImage(entry.id, entry.name);
  } catch (e) {
    fail(e);
  }
}

async function selectImage(id: string, name: string): Promise<void> {
  const signal = replaceRequests();
  const rgb = await backend.imageRgb(id, signal);
  state.image = { id, name, rgb };
  for (const b of all<HTMLElement>(document, '.sample')) b.classList.toggle('selected', b.dataset['id'] === id);
  drawRgb($<HTMLCanvasElement>('#input-canvas'), rgb);
  $('#image-name').textContent = name;
  // The shown maps belong to the previous image until the new ones arrive.
  for (const el of all<HTMLElement>(document, '.result')) el.dataset['state'] = 'loading';
  state.target = 'auto';
  $('#activations').replaceChildren();
  const prediction = await backend.predict(id, 5, signal);
  state.predictions = prediction.top;
  renderPredictions();
  renderTargetSelect();
  await explainAll();
}

function renderPredictions(): void {
  $('#predictions').replaceChildren(
    ...state.predictions.map((p) =>
      pressable(
        h(
          'li',
          { 'data-class': p.class, class: state.target === p.class ? 'selected' : '', title: `explain ${classText(p.class, p.label)}`, onclick: () => setTarget(p.class) },
          h('span.label', {}, p.label),
          h('span.bar', {}, h('span', { style: `width:${(100 * p.probability).toFixed(1)}%` })),
          h('span.prob', {}, `${(100 * p.probability).toFixed(1)}%`),
        ),
        () => setTarget(p.class),
      ),
    ),
  );
}

function setTarget(target: number | 'auto'): void {
  state.target = target;
  $<HTMLSelectElement>('#target').value = String(target);
  renderPredictions();
  void explainAll();
}

// ---- explanations ----------------------------------------------------------------------

function renderMethodList(): void {
  const families = [...new Set(state.methods.map((m) => m.family))];
  $('#methods').replaceChildren(
    ...families.map((f) =>
      h(
        'fieldset',
        {},
        h('legend', {}, f),
        ...state.methods
          .filter((m) => m.family === f)
          .map((m) => {
            const box = h('input', { type: 'checkbox', value: m.id, ...(state.selected.has(m.id) ? { checked: true } : {}) });
            box.addEventListener('change', () => {
              if (box.checked) state.selected.add(m.id);
              else state.selected.delete(m.id);
              void explainAll();
            });
            return h('label', { title: `${m.summary} (${m.paper})` }, box, m.id);
          }),
      ),
    ),
  );
}

function card(method: MethodEntry): HTMLElement {
  let el = document.querySelector<HTMLElement>(`.result[data-method="${method.id}"]`);
  if (el) return el;
  const canvas = h('canvas', { class: 'pixelated' });
  el = h(
    'figure.result',
    { 'data-method': method.id, 'data-state': 'loading' },
    h('div.frame', {}, canvas, h('div.spinner', {})),
    h('figcaption', {}, h('strong', { title: method.summary }, method.id), h('span.detail', {}, '…')),
    h(
      'div.downloads',
      {},
      h('button', { type: 'button', onclick: () => canvas.toBlob((b) => b && download(`${fileStem()}.${method.id}.png`, b), 'image/png') }, 'PNG'),
      h('button', { type: 'button', onclick: () => downloadNpy(method.id) }, '.npy'),
      h('button', { type: 'button', class: 'curves-button', title: 'deletion and insertion curves of this map (Petsiuk et al. 2018)', onclick: () => void showCurves(method) }, 'curves'),
    ),
    h('div.curves', {}),
    method.options.length ? optionsPanel(method) : null,
  );
  return el;
}

/** The request that names a method's explanation with the current settings. */
function explainRequest(m: MethodEntry, image: string) {
  const options = state.options.get(m.id);
  return { image, method: m.id, colormap: state.colormap, alpha: state.alpha, target: state.target, ...(m.usesLayers && state.layer ? { layer: state.layer } : {}), ...(options && Object.keys(options).length ? { options } : {}) };
}

/** Deletion and insertion curves of a card's map, drawn under it. */
async function showCurves(method: MethodEntry): Promise<void> {
  const el = card(method).querySelector<HTMLElement>('.curves')!;
  if (!state.image) return;
  el.dataset['state'] = 'loading';
  el.textContent = 'computing deletion and insertion curves…';
  try {
    const r = await backend.curves(explainRequest(method, state.image.id));
    el.replaceChildren(curveChart(r));
    el.dataset['state'] = 'done';
  } catch (e) {
    if (isAbort(e)) return;
    el.textContent = (e as Error).message;
    el.dataset['state'] = 'error';
  }
}

/** A small line chart: class probability against the fraction of pixels removed or restored. */
function curveChart(r: CurvesResponse): SVGSVGElement {
  const [w, h0, pad] = [220, 120, 22];
  const x = (f: number) => pad + f * (w - pad - 6);
  const y = (p: number) => h0 - pad + 4 - p * (h0 - pad - 6);
  const line = (values: number[]) => values.map((v, i) => `${x(r.fractions[i]!).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h0}`);
  svg.setAttribute('class', 'curve-chart');
  svg.innerHTML =
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(0)}" stroke="#999"/><line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(1)}" stroke="#999"/>` +
    `<text x="${x(0)}" y="${h0 - 4}" font-size="9">0</text><text x="${x(1) - 20}" y="${h0 - 4}" font-size="9">pixels 100%</text><text x="2" y="${y(1) + 8}" font-size="9">p=1</text>` +
    `<polyline class="deletion" fill="none" stroke="#c0392b" stroke-width="1.5" points="${line(r.deletion)}"/>` +
    `<polyline class="insertion" fill="none" stroke="#2f6fde" stroke-width="1.5" points="${line(r.insertion)}"/>` +
    `<text x="${x(0.35)}" y="12" font-size="9" fill="#c0392b">deletion AUC ${r.deletionAuc.toFixed(3)}</text>` +
    `<text x="${x(0.35)}" y="23" font-size="9" fill="#2f6fde">insertion AUC ${r.insertionAuc.toFixed(3)}</text>`;
  return svg;
}

/**
 * A method's option controls, generated from its schema in the registry (the same one that
 * makes the CLI flags and validates requests): a changed value is sent with the method's
 * next explain; the server checks it and a bad value shows as the card's error.
 */
function optionsPanel(method: MethodEntry): HTMLElement {
  const set = (spec: OptionSpec, value: unknown) => {
    const current = { ...(state.options.get(method.id) ?? {}) };
    if (value === undefined || value === spec.default) delete current[spec.name];
    else current[spec.name] = value;
    state.options.set(method.id, current);
    void explainAll();
  };
  const control = (spec: OptionSpec): HTMLElement => {
    const given = state.options.get(method.id)?.[spec.name] ?? spec.default;
    const attrs = { 'data-option': spec.name, title: spec.help };
    if (spec.type === 'boolean') {
      const box = h('input', { ...attrs, type: 'checkbox', ...(given === true ? { checked: true } : {}) });
      box.addEventListener('change', () => set(spec, box.checked));
      return box;
    }
    if (spec.type === 'choice' || spec.type === 'layer') {
      const choices = spec.type === 'layer' ? (state.model?.layers ?? []).map((l) => l.tensor) : [...(spec.choices ?? [])];
      const select = h('select', attrs, ...(spec.default === null ? [h('option', { value: '' }, 'default')] : []), ...choices.map((c) => h('option', { value: c, ...(c === given ? { selected: true } : {}) }, c)));
      select.addEventListener('change', () => set(spec, select.value === '' ? undefined : select.value));
      return select;
    }
    // Numbers (or their words, e.g. a baseline 'blur'), lists of integers ('y,x'), strings.
    const plainNumber = (spec.type === 'number' || spec.type === 'integer') && !spec.choices?.length && !spec.length;
    const input = h('input', {
      ...attrs,
      type: plainNumber ? 'number' : 'text',
      ...(plainNumber && spec.type === 'integer' ? { step: 1 } : plainNumber ? { step: 'any' } : {}),
      ...(spec.min !== undefined ? { min: spec.min } : {}),
      ...(spec.max !== undefined ? { max: spec.max } : {}),
      value: given === null ? '' : Array.isArray(given) ? given.join(',') : String(given),
      placeholder: spec.default === null ? 'default' : '',
    });
    input.addEventListener('change', () => {
      const text = input.value.trim();
      if (text === '') return set(spec, undefined);
      if (spec.length) return set(spec, text.split(',').map(Number));
      const n = Number(text);
      set(spec, (spec.type === 'number' || spec.type === 'integer') && Number.isFinite(n) ? n : text);
    });
    return input;
  };
  return h(
    'details.options',
    {},
    h('summary', {}, 'options'),
    ...method.options.map((spec) => h('label', { title: spec.help }, h('span', {}, spec.name), control(spec))),
  );
}

const fileStem = () => (state.image?.name ?? 'image').replace(/[^A-Za-z0-9_.-]+/g, '_');

function downloadNpy(method: string): void {
  const r = state.results.get(method);
  if (!r) return;
  download(`${fileStem()}.${method}.npy`, new Blob([encodeNpy({ data: r.values, dims: r.response.dims }) as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
}

/** Draw a result with the current colormap and opacity. */
function paint(method: string): void {
  const r = state.results.get(method);
  const el = document.querySelector<HTMLElement>(`.result[data-method="${method}"]`);
  if (!r || !el || !state.image) return;
  const signed = state.methods.find((m) => m.id === method)?.signed ?? false;
  drawRgb(el.querySelector('canvas')!, renderResult(r.response.kind, r.values, r.response.dims, state.image.rgb, state.colormap, state.alpha, signed));
  el.dataset['state'] = 'done';
  const target = r.response.class === null ? '' : r.response.label && r.response.label !== `class ${r.response.class}` ? `class ${r.response.class}: ${r.response.label}` : `class ${r.response.class}`;
  const layer = r.response.layer ? ` · ${r.response.layer}` : '';
  const warning = r.response.warnings.length ? ` · warning: ${r.response.warnings.join('; ')}` : '';
  el.querySelector('.detail')!.textContent = `${target}${layer} · ${r.response.cached ? 'cached' : `${Math.round(r.response.ms)} ms`}${warning}`;
  if (warning) el.dataset['warning'] = 'true';
  else delete el.dataset['warning'];
}

async function explainAll(): Promise<void> {
  const image = state.image;
  if (!image || !state.model) return;
  const signal = replaceRequests();
  state.results.clear();
  const chosen = state.methods.filter((m) => state.selected.has(m.id));
  const container = $('#results');
  container.replaceChildren(...chosen.map((m) => card(m)));
  // Curves belong to the previous map.
  for (const c of all<HTMLElement>(container, '.curves')) {
    c.replaceChildren();
    delete c.dataset['state'];
  }
  for (const el of all<HTMLElement>(container, '.result')) el.dataset['state'] = 'loading';
  for (const [i, m] of chosen.entries()) {
    if (signal.aborted) return;
    const computing = `computing ${m.id} (${i + 1}/${chosen.length})…`;
    setStatus(computing, 'busy');
    const detail = card(m).querySelector('.detail')!;
    const onProgress = (fraction: number) => {
      if (signal.aborted) return;
      const percent = `${Math.floor(100 * Math.min(1, Math.max(0, fraction)))}%`;
      setStatus(`${computing} ${percent}`, 'busy');
      detail.textContent = `computing… ${percent}`;
    };
    try {
      const response = await backend.explain(explainRequest(m, image.id), signal, onProgress);
      if (signal.aborted) return;
      state.results.set(m.id, { response, values: base64ToFloats(response.map) });
      paint(m.id);
    } catch (e) {
      if (signal.aborted || isAbort(e)) return;
      const el = card(m);
      el.dataset['state'] = 'error';
      el.querySelector('.detail')!.textContent = (e as Error).message;
    }
  }
  if (!signal.aborted) setStatus(chosen.length ? `explained ${image.name} ${backend.describe()}` : 'choose a method');
}

// ---- activations and graph -------------------------------------------------------------

function overviewLayers(): LayerEntry[] {
  const layers = state.model?.layers ?? [];
  const convs = layers.filter((l) => l.conv);
  return convs.length > 0 ? convs : layers;
}

/** The layer picker of the activations tab: every overview layer, or one. */
function renderActivationPicker(): void {
  const select = $<HTMLSelectElement>('#activation-layer');
  const layers = overviewLayers();
  select.replaceChildren(h('option', { value: '' }, `all ${layers.length} layers`), ...layers.map((l) => h('option', { value: l.tensor }, `${l.index}: ${l.tensor} (${l.op}) ${shape(l.shape.slice(1))}`)));
  select.value = '';
}

let activationRequests: AbortController | undefined;

async function showActivations(): Promise<void> {
  const image = state.image;
  if (!image) return;
  const box = $('#activations');
  const picked = $<HTMLSelectElement>('#activation-layer').value;
  const key = `${image.id}|${picked}`;
  if (box.dataset['key'] === key && box.childElementCount > 0) return;
  activationRequests?.abort();
  activationRequests = new AbortController();
  const { signal } = activationRequests;
  box.dataset['key'] = key;
  box.dataset['image'] = image.id;
  box.classList.toggle('single', picked !== '');
  box.replaceChildren();
  const layers = overviewLayers().filter((l) => picked === '' || l.tensor === picked);
  for (const [i, layer] of layers.entries()) {
    setStatus(`activations: ${layer.tensor} (${i + 1}/${layers.length})…`, 'busy');
    const column = h('div.column', { 'data-layer': layer.tensor }, h('h3', { title: layer.tensor }, layer.tensor), h('div.meta', {}, `${layer.op} ${shape(layer.shape.slice(1))}`));
    box.append(column);
    try {
      const act = await backend.activations(image.id, layer.tensor, 64, signal);
      if (signal.aborted) return;
      if (act.total > act.channels.length) column.append(h('div.meta', {}, `${act.channels.length} most active of ${act.total} channels`));
      const thumbs = h('div.thumbs');
      for (const c of act.channels) {
        const open = () => enlarge(`data:image/png;base64,${c.png}`, `${layer.tensor} · channel ${c.channel} · mean activation ${c.mean.toFixed(4)}`);
        thumbs.append(pressable(h('img.thumb', { src: `data:image/png;base64,${c.png}`, alt: `channel ${c.channel}`, title: `channel ${c.channel}, mean ${c.mean.toFixed(3)}`, 'data-channel': c.channel, onclick: open }), open));
      }
      column.append(thumbs);
    } catch (e) {
      if (signal.aborted || isAbort(e)) return;
      column.append(h('div.error', {}, (e as Error).message));
    }
  }
  setStatus(`activations of ${layers.length === 1 ? layers[0]!.tensor : `${layers.length} layers`}`);
}

let focusBeforeLightbox: Element | null = null;

function enlarge(src: string, caption: string): void {
  const box = $('#lightbox');
  focusBeforeLightbox = document.activeElement;
  box.replaceChildren(h('figure', {}, h('img', { src, class: 'pixelated', alt: caption }), h('figcaption', {}, caption)));
  box.hidden = false;
  box.focus();
}

function closeLightbox(): void {
  const box = $('#lightbox');
  if (box.hidden) return;
  box.hidden = true;
  (focusBeforeLightbox as HTMLElement | null)?.focus?.();
}

async function showGraph(): Promise<void> {
  const box = $('#graph');
  if (box.childElementCount === 0) {
    box.innerHTML = await backend.graph(); // convlens's own SVG; every name in it is XML-escaped
    const pick = (g: SVGGElement) => {
      const nodes = JSON.parse(g.dataset['nodes'] ?? '[]') as string[];
      const layers = state.model?.layers ?? [];
      const layer = [...nodes].reverse().map((n) => layers.find((l) => l.node === n)).find((l) => l !== undefined);
      if (!layer) {
        setStatus(`'${g.querySelector('title')?.textContent ?? ''}' has no spatial output to explain`, 'error');
        return;
      }
      selectLayer(layer.tensor);
      setStatus(`layer ${layer.tensor} selected`);
    };
    box.addEventListener('click', (ev) => {
      const g = (ev.target as Element).closest<SVGGElement>('g.node');
      if (g) pick(g);
    });
    for (const g of all<SVGGElement>(box, 'g.node')) pressable(g, () => pick(g));
  }
  highlightGraph();
}

function highlightGraph(): void {
  const layer = state.model?.layers.find((l) => l.tensor === state.layer);
  for (const g of all<SVGGElement>(document, '#graph g.node')) {
    const nodes = JSON.parse(g.dataset['nodes'] ?? '[]') as string[];
    g.classList.toggle('selected', layer !== undefined && nodes.includes(layer.node));
  }
}

function selectLayer(tensor: string): void {
  state.layer = tensor;
  $<HTMLSelectElement>('#layer').value = tensor;
  highlightGraph();
  void explainAll();
}

function showTab(name: string): void {
  for (const t of all<HTMLElement>(document, '[data-tab]')) t.classList.toggle('active', t.dataset['tab'] === name);
  for (const p of all<HTMLElement>(document, '.panel')) p.hidden = p.id !== `tab-${name}`;
  if (name === 'activations') void showActivations().catch(fail);
  if (name === 'graph') void showGraph().catch(fail);
}

// ---- page ---------------------------------------------------------------------------

function wire(): void {
  // Keyboard-reachable buttons open the hidden file inputs.
  $('#open-model').addEventListener('click', () => $<HTMLInputElement>('#model-file').click());
  $('#choose-image').addEventListener('click', () => $<HTMLInputElement>('#image-file').click());
  $<HTMLSelectElement>('#activation-layer').addEventListener('change', () => void showActivations().catch(fail));
  $<HTMLInputElement>('#model-file').addEventListener('change', (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) void uploadModel(file);
  });
  $<HTMLInputElement>('#image-file').addEventListener('change', (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) void uploadImage(file);
  });
  const drop = $('#drop-zone');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const file = ev.dataTransfer?.files[0];
    if (!file) return;
    if (/\.onnx$/i.test(file.name)) void uploadModel(file);
    else void uploadImage(file);
  });
  $<HTMLSelectElement>('#layer').addEventListener('change', (ev) => selectLayer((ev.target as HTMLSelectElement).value));
  $<HTMLSelectElement>('#target').addEventListener('change', (ev) => {
    const v = (ev.target as HTMLSelectElement).value;
    setTarget(v === 'auto' ? 'auto' : Number(v));
  });
  const cmap = $<HTMLSelectElement>('#colormap');
  cmap.replaceChildren(...colormapNames.map((c) => h('option', { value: c }, c)));
  cmap.value = state.colormap;
  cmap.addEventListener('change', () => {
    state.colormap = cmap.value as ColormapName;
    for (const m of state.results.keys()) paint(m);
  });
  const alpha = $<HTMLInputElement>('#alpha');
  alpha.value = String(state.alpha);
  alpha.addEventListener('input', () => {
    state.alpha = Number(alpha.value);
    $('#alpha-value').textContent = `${Math.round(100 * state.alpha)}%`;
    for (const m of state.results.keys()) paint(m);
  });
  for (const t of all<HTMLElement>(document, '[data-tab]')) t.addEventListener('click', () => showTab(t.dataset['tab']!));
  const lightbox = $('#lightbox');
  lightbox.addEventListener('click', closeLightbox);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeLightbox();
  });
}

/** What tests and benchmarks read from the page (values, not pixels). */
export interface DebugHook {
  mode: 'server' | 'static';
  backend: ExplorerBackend;
  /** The current explanations by method id: raw values, dims, class, layer, compute ms. */
  results(): Record<string, { values: number[]; dims: number[]; class: number | null; layer: string | null; ms: number }>;
  /** The id of the image shown (for requests made straight to the backend). */
  image(): string | undefined;
}

export async function start(chosen: ExplorerBackend): Promise<void> {
  backend = chosen;
  const hook: DebugHook = {
    mode: backend.mode,
    backend,
    results: () =>
      Object.fromEntries([...state.results].map(([id, r]) => [id, { values: Array.from(r.values), dims: r.response.dims, class: r.response.class, layer: r.response.layer, ms: r.response.ms }])),
    image: () => state.image?.id,
  };
  (window as unknown as { __convlens: DebugHook }).__convlens = hook;
  wire();
  try {
    setStatus(backend.mode === 'static' ? 'loading the model in this browser…' : 'loading…', 'busy');
    const { methods, samples, model } = await backend.start();
    state.methods = methods;
    state.samples = samples;
    renderMethodList();
    renderSamples();
    await loadModel(model);
    document.body.dataset['ready'] = 'true';
  } catch (e) {
    fail(e);
  }
}
