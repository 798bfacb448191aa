/**
 * The streaming explain pipeline behind `convlens explain` and `convlens demo` (Node):
 * inputs are discovered lazily and decoded a batch ahead; each batch is explained by every
 * method (the class scores come out of the same runs), rendered and written at once, and
 * a small JSON record per input says what was written. The HTML report is assembled from
 * those records at the end (pages of inputs; a one-page report embeds its images, longer
 * ones link them), so memory does not grow with the number of inputs, an interrupted run leaves a record of what it wrote,
 * `skipExisting` resumes it, and several runs into one folder share one report.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defaultOpset } from '../model/model.ts';
import { summarize } from '../inspect/summary.ts';
import { encodeNpy } from '../runtime/npy.ts';
import { discoverInputs, type InputEntry } from '../input/load-input.ts';
import { describePreset } from '../input/presets.ts';
import { InputError } from '../input/layout.ts';
import { getMethod } from '../methods/registry.ts';
import type { CommonOptions, Explanation } from '../methods/types.ts';
import { CancelledError } from '../methods/context.ts';
import { renderAttribution } from '../viz/render.ts';
import type { ColormapName } from '../viz/colormaps.ts';
import type { RgbImage } from '../viz/image.ts';
import { encodePng } from '../viz/png.ts';
import { drawBox } from '../viz/box.ts';
import { explanationScale, type ColorScale } from '../viz/colorbar.ts';
import { renderReportParts, type ReportPart } from '../report/html.ts';
import { prepareOutDir } from '../report/out-dir.ts';
import type { ReportData, ReportImage, ReportInput } from '../report/types.ts';
import { inputBatches, type InputBatch, type SkippedInput } from './input-batches.ts';
import type { BatchExplanation, ClassScore, Lens } from './lens.ts';

export interface ExplainRunOptions {
  methods: string[];
  out: string;
  raw: boolean;
  colormap: ColormapName;
  alpha: number;
  /** Options passed to every method (target, layers, batch size, seed, method options). */
  options: CommonOptions & Record<string, unknown>;
  title?: string;
  /** Inputs whose record shows every requested method are not explained again. */
  skipExisting?: boolean;
  /** Stop at the first unreadable input (default: report it and go on). */
  strict?: boolean;
  /** Inputs per report page (default 50). */
  pageSize?: number;
  signal?: AbortSignal;
  /** Time stamped on this run's records (default: now); the report orders runs by it. */
  startedAt?: string;
  /** Folder for temporary files before their rename into `out` (same filesystem; default: beside each file). */
  tempDir?: string;
  /** Called for each result that carries a warning (e.g. a blank map and why). */
  onWarning?: (text: string) => void;
  /** Called as work advances: fraction of the whole run done, and what is running. */
  onProgress?: (fraction: number, text: string) => void;
}

export interface ExplainSummary {
  report: string;
  files: string[];
  inputs: { name: string; top: { class: number; label: string; probability: number; score: number }[] }[];
  skipped: SkippedInput[];
  /** Inputs not explained again because of skipExisting. */
  existing: number;
  methods: { id: string; ms: number }[];
  /** This run's per-input records (what each written file shows: input, method, class, layer). */
  records: InputRecord[];
}

/** What one input's record holds (records live in <out>/.convlens/inputs/<name>.json). */
export interface InputRecord {
  name: string;
  /** When the input was explained (orders inputs across runs into one folder). */
  at: string;
  order: number;
  image: { src: string; width: number; height: number };
  predictions: ClassScore[];
  /** `scale`: what the picture's colours stand for (a colorbar); `raw`: the .npy values file, when written. */
  cells: { method: string; layer?: string; class?: number; label?: string; src: string; width: number; height: number; scale?: ColorScale; raw?: string; warnings?: string[] }[];
}

/** Render one result as the explorer does: maps over the input image, attribution images on their own (signed ones centered at 0). */
export function renderExplanation(e: Explanation, image: RgbImage, colormap: ColormapName, alpha: number): RgbImage {
  const rendered = renderAttribution(e.kind, e.values, e.dims, image, { colormap, alpha, signed: getMethod(e.method).signed === true });
  return e.box ? drawBox(rendered, e.box) : rendered;
}

const recordDir = (out: string) => join(out, '.convlens', 'inputs');

let temporaries = 0;
/**
 * Write through a temporary file and a rename, so a file is whole or absent. Synchronous:
 * onnxruntime's runs hold the main thread, so each step of an asynchronous write would wait
 * for the end of a run; written at once, a batch's files cost the next run no event-loop
 * turns (a small file into the page cache takes a fraction of a millisecond).
 */
function writeAtomic(path: string, bytes: Uint8Array | string, tempDir?: string): void {
  const tmp = temporaryFor(path, tempDir);
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

const temporaryFor = (path: string, tempDir: string | undefined) => (tempDir ? join(tempDir, `${temporaries++}-${basename(path)}`) : `${path}.tmp-${process.pid}`);

const BASE64_PIECE = 3 * 16384;

/** A report page written piece by piece (see renderReportParts), embedded PNGs as base64; whole or absent like writeAtomic. */
function writeReportFile(path: string, parts: readonly ReportPart[]): void {
  const tmp = temporaryFor(path, undefined);
  const fd = openSync(tmp, 'w');
  try {
    const write = (text: string) => {
      const written = writeSync(fd, text);
      if (written < Buffer.byteLength(text)) {
        // A short write (rare on a file) goes on from where it stopped.
        const rest = Buffer.from(text).subarray(written);
        for (let at = 0; at < rest.length; ) at += writeSync(fd, rest, at);
      }
    };
    for (const part of parts) {
      if (typeof part === 'string') {
        write(part);
        continue;
      }
      // Base64 in pieces of 48 kB (a multiple of 3 bytes, so the text is the same): each
      // piece's text fits V8's ordinary heap, whose memory is reused, where one string per
      // image would take fresh pages each time.
      const png = Buffer.from(part.png.buffer, part.png.byteOffset, part.png.byteLength);
      for (let at = 0; at < png.length; at += BASE64_PIECE) write(png.subarray(at, at + BASE64_PIECE).toString('base64'));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readRecord(path: string): InputRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as InputRecord;
  } catch {
    return undefined; // a damaged record is as if the input was not done
  }
}

/** What explaining a list of entries wrote (filled as batches finish, so a cancelled run keeps it). */
export interface EntriesResult {
  files: string[];
  inputs: ExplainSummary['inputs'];
  records: InputRecord[];
  skipped: SkippedInput[];
  /** Wall time per method id. */
  ms: Map<string, number>;
}

export const emptyEntriesResult = (methods: readonly string[]): EntriesResult => ({ files: [], inputs: [], records: [], skipped: [], ms: new Map(methods.map((id) => [id, 0])) });

export async function explainRun(lens: Lens, inputs: readonly string[], run: ExplainRunOptions): Promise<ExplainSummary> {
  for (const id of run.methods) getMethod(id); // unknown names fail before any work
  const entries = await discoverInputs(inputs);
  prepareOut(run.out);
  const records = recordDir(run.out);
  const done = (e: InputEntry) => {
    if (!run.skipExisting) return false;
    const r = readRecord(join(records, `${e.name}.json`));
    return r !== undefined && run.methods.every((m) => r.cells.some((c) => c.method === m));
  };
  const todo = entries.filter((e) => !done(e));
  const startedAt = run.startedAt ?? new Date().toISOString();
  const result = emptyEntriesResult(run.methods);
  try {
    await explainEntries(lens, todo, { ...run, startedAt }, 0, result);
  } catch (e) {
    // What was written so far stays usable: the report lists it, a rerun can resume.
    if (e instanceof CancelledError) await writeReport(lens, run, startedAt, result.ms, result.skipped);
    throw e;
  }
  const { skipped, ms } = result;
  if (todo.length > 0 && skipped.length === todo.length) {
    const first = skipped[0]!;
    throw new InputError(`none of the ${todo.length} input(s) could be read (${first.path}: ${first.reason}): give images the model can read (PNG, JPEG, WebP, ... or .npy)`);
  }
  const report = await writeReport(lens, run, startedAt, ms, skipped);
  return {
    report,
    files: result.files,
    inputs: result.inputs,
    skipped,
    existing: entries.length - todo.length,
    methods: run.methods.map((id) => ({ id, ms: ms.get(id)! })),
    records: result.records,
  };
}

/**
 * Explain entries whose names the caller fixed (explainRun, or a queue worker with one batch
 * of a larger run): outputs and per-input records into `run.out`, no report. `firstOrder` is
 * the first entry's position in the whole run; unreadable inputs are skipped unless strict.
 */
export async function explainEntries(lens: Lens, todo: readonly InputEntry[], given: ExplainRunOptions, firstOrder = 0, into = emptyEntriesResult(given.methods)): Promise<EntriesResult> {
  const run = { ...given, startedAt: given.startedAt ?? new Date().toISOString() }; // one time stamp for every record
  const batchSize = run.options.batchSize ?? 8;
  let finished = 0;
  // Each batch's files are encoded and written while the next batch runs (one batch behind).
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const batch of inputBatches(lens, todo, { batchSize, strict: run.strict ?? false })) {
      into.skipped.push(...batch.skipped);
      const n = batch.names.length;
      if (n === 0) continue;
      const fraction = (methodIndex: number, inner: number) => (finished + (n * (methodIndex + inner)) / run.methods.length) / todo.length;
      let current = 0;
      const result = await lens.explainBatch(batch.tensor, run.methods, run.options, {
        ...(run.signal ? { signal: run.signal } : {}),
        onMethod: (id, i) => {
          current = i;
          run.onProgress?.(fraction(i, 0), `${id} on inputs ${finished + 1}-${finished + n} of ${todo.length}`);
        },
        onProgress: (f) => run.onProgress?.(fraction(current, f), `${run.methods[current]} on inputs ${finished + 1}-${finished + n} of ${todo.length}`),
      });
      await writing;
      writing = writeBatch(lens, batch, result, run, into, firstOrder);
      writing.catch(() => undefined); // surfaces when awaited
      // onnxruntime-node runs block the main thread, so a file whose PNG is encoded during a
      // run is written only after it: the first batch's files are written before the next
      // run starts, so the first maps appear at once rather than two batches later.
      if (finished === 0) await writing;
      finished += n;
    }
  } finally {
    await writing;
  }
  return into;
}

/**
 * Render a batch's results, encode its PNGs together (sharp's threads, while the next batch
 * runs) and write them, then each input's record (a record appears only after its files).
 */
async function writeBatch(lens: Lens, batch: InputBatch, result: BatchExplanation, run: ExplainRunOptions & { startedAt: string }, into: EntriesResult, firstOrder: number): Promise<void> {
  const records = recordDir(run.out);
  const write = async (name: string, bytes: Uint8Array | Promise<Uint8Array>) => {
    const path = join(run.out, name);
    into.files.push(path); // in order, not as writes finish (a failed write fails the run)
    writeAtomic(path, await bytes, run.tempDir);
  };
  const cells: InputRecord['cells'][] = batch.names.map(() => []);
  const pngs: { file: string; image: RgbImage; png?: Uint8Array | undefined }[] = [];
  const raws: { file: string; bytes: Uint8Array }[] = [];
  for (const { id, results, ms: t } of result.methods) {
    into.ms.set(id, (into.ms.get(id) ?? 0) + t);
    const layers = [...new Set(results.map((r) => r.layer).filter((l): l is string => l !== undefined))];
    for (const r of results) {
      const stem = batch.names[r.image]!;
      const suffix = layers.length > 1 ? `.${r.layer === 'fused' ? 'fused' : layers.indexOf(r.layer!)}` : '';
      const image = renderExplanation(r, batch.images[r.image]!, run.colormap, run.alpha);
      const file = `${stem}.${id}${suffix}.png`;
      pngs.push({ file, image });
      const raw = run.raw ? `${stem}.${id}${suffix}.npy` : undefined;
      if (raw) raws.push({ file: raw, bytes: encodeNpy(r.kind === 'map' ? { data: r.values, dims: r.dims } : { data: r.raw, dims: r.rawDims }) });
      cells[r.image]!.push({
        method: id,
        src: file,
        width: image.width,
        height: image.height,
        scale: explanationScale(r, run.colormap, getMethod(id).signed === true),
        ...(raw ? { raw } : {}),
        ...(r.layer !== undefined ? { layer: r.layer } : {}),
        ...(r.class !== undefined ? { class: r.class, label: lens.labelOf(r.class) } : {}),
        ...(r.warnings?.length ? { warnings: r.warnings } : {}),
      });
      for (const w of r.warnings ?? []) run.onWarning?.(`${stem} ${id}${r.layer !== undefined ? ` (${r.layer})` : ''}: ${w}`);
    }
  }
  for (const [i, name] of batch.names.entries()) pngs.push({ file: `${name}.input.png`, image: batch.images[i]!, png: batch.pngFiles?.[i] });
  await Promise.all([...pngs.map(({ file, image, png }) => write(file, png ?? encodePng(image))), ...raws.map(({ file, bytes }) => write(file, bytes))]);
  mkdirSync(records, { recursive: true });
  for (const [i, name] of batch.names.entries()) {
    const image = batch.images[i]!;
    const record: InputRecord = {
      name,
      at: run.startedAt,
      order: firstOrder + batch.first + i,
      image: { src: `${name}.input.png`, width: image.width, height: image.height },
      predictions: result.top[i]!,
      cells: cells[i]!,
    };
    writeAtomic(join(records, `${name}.json`), JSON.stringify(record), run.tempDir);
    into.records.push(record);
    into.inputs.push({ name, top: result.top[i]!.map(({ class: c, label, probability, score }) => ({ class: c, label, probability, score })) });
  }
}

function prepareOut(out: string): void {
  prepareOutDir(out);
  mkdirSync(recordDir(out), { recursive: true });
}

function readdirSafe(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

/** The report pages, from every record in the folder (this run's and earlier ones'). */
async function writeReport(lens: Lens, run: ExplainRunOptions, startedAt: string, ms: Map<string, number>, skipped: SkippedInput[]): Promise<string> {
  const dir = recordDir(run.out);
  const names = (readdirSafe(dir) ?? []).filter((f) => f.endsWith('.json'));
  // Only the sort keys are held for all inputs; each page reads its own records.
  const refs = names
    .map((f): RecordRef | undefined => {
      const r = readRecord(join(dir, f));
      return r && { at: r.at, order: r.order, load: () => readRecord(join(dir, f)) };
    })
    .filter((k): k is RecordRef => k !== undefined);
  const meta: ReportMeta = {
    title: run.title ?? `convlens: ${lens.spec.name}`,
    generated: startedAt,
    model: await reportModel(lens),
    settings: settingsOf(lens, run),
    methods: run.methods.map((id) => ({ id, ms: ms.get(id)! })),
    skipped,
  };
  return writeReportPages(run.out, refs, meta, run.pageSize);
}

/** A record to place in the report: its sort keys, and the record itself when its page is written. */
export interface RecordRef {
  at: string;
  order: number;
  load: () => InputRecord | undefined;
}

/** What a report says besides its inputs. */
export interface ReportMeta {
  title: string;
  generated: string;
  model: ReportData['model'];
  settings: Record<string, string>;
  /** Method ids with their total wall time. */
  methods: { id: string; ms: number }[];
  skipped: { name: string; reason: string }[];
}

/** The model as the report describes it. */
export async function reportModel(lens: Lens): Promise<ReportData['model']> {
  const { totals } = summarize(await lens.specialized());
  return { name: lens.spec.name, inputShape: lens.inputShape(1).slice(1), opset: defaultOpset(lens.model), parameters: totals.parameters, ops: Object.entries(totals.nodes).map(([op, n]) => ({ op, count: n })) };
}

/** Report pages (index.html, page-2.html, ...) in `out` from records, earlier runs first, then input order. */
export async function writeReportPages(out: string, refs: readonly RecordRef[], meta: ReportMeta, pageSize = 50): Promise<string> {
  const keys = [...refs].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
  const count = Math.max(1, Math.ceil(keys.length / pageSize));
  const pageFile = (p: number) => (p === 1 ? 'index.html' : `page-${p}.html`);
  const methods: ReportData['methods'] = meta.methods.map(({ id, ms }) => {
    const m = getMethod(id);
    return { id, paper: m.paper, summary: m.summary, ms, family: m.family, output: m.output, relu: m.relu, ...(m.signed ? { signed: true } : {}) };
  });
  for (let p = 1; p <= count; p++) {
    // A one-page report embeds its images (one file to share); longer ones link them.
    const image = (linked: { src: string; width: number; height: number }): ReportImage => (count === 1 ? readFileSync(join(out, linked.src)) : linked);
    const inputs: ReportInput[] = keys
      .slice((p - 1) * pageSize, p * pageSize)
      .map((k) => k.load())
      .filter((r): r is InputRecord => r !== undefined)
      .map((r) => ({ name: r.name, png: image(r.image), predictions: r.predictions, cells: r.cells.map(({ src, width, height, raw: _raw, ...rest }) => ({ ...rest, png: image({ src, width, height }) })) }));
    const data: ReportData = {
      title: meta.title,
      generated: meta.generated,
      model: meta.model,
      settings: meta.settings,
      methods,
      inputs,
      page: { number: p, count, href: pageFile, firstInput: (p - 1) * pageSize, totalInputs: keys.length },
      ...(meta.skipped.length ? { skipped: meta.skipped.map(({ name, reason }) => ({ name, reason })) } : {}),
    };
    writeReportFile(join(out, pageFile(p)), renderReportParts(data));
  }
  return resolve(join(out, 'index.html'));
}

/** The settings table of the report. */
export function settingsOf(lens: Lens, run: ExplainRunOptions): Record<string, string> {
  const o = run.options;
  const show = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const settings: Record<string, string> = {
    target: show(o.target ?? 'auto'),
    layers: o.targetLayers ? show(o.targetLayers) : 'default (last spatial layer)',
    preset: `${describePreset(lens.spec.preset)} (${lens.spec.sources.preset === 'option' ? 'given' : lens.spec.sources.preset === 'model' ? "the model's metadata" : 'default'})`,
    resize: lens.spec.resize,
    colormap: run.colormap,
    alpha: String(run.alpha),
  };
  for (const [key, value] of Object.entries(o)) {
    if (!['target', 'targetLayers'].includes(key) && value !== undefined) settings[key] = show(value);
  }
  return settings;
}


