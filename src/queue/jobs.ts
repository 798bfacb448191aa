/**
 * What a queued explain job carries and returns, and how a run is cut into jobs.
 *
 * One job is one batch of inputs explained by every requested method (the batch shares
 * its decoding and its class scores, as in `convlens explain`). A job's id is a hash of
 * everything its outputs depend on: the model file's bytes, each input's name and bytes,
 * the methods, their options, the input and rendering settings and the output folder. Adding
 * the same work again therefore names jobs that already exist, and BullMQ adds nothing.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { InputEntry } from '../input/load-input.ts';
import type { InputRecord } from '../app/explain-run.ts';
import type { ReportData } from '../report/types.ts';
import type { ResizeMode } from '../input/image-file.ts';
import type { ColormapName } from '../viz/colormaps.ts';
import { fetchInput, isUrl } from './remote-inputs.ts';

/** The settings every job of one `queue add` shares. */
export interface RunSettings {
  /** Absolute path of the model file (on storage every worker reads). */
  model: string;
  /** SHA-256 of the model file: workers keep one opened model per hash. */
  modelHash: string;
  /** Absolute output folder (shared storage). */
  out: string;
  methods: string[];
  /** Options passed to every method (target, layers, batch size, seed, method options). */
  options: Record<string, unknown>;
  input: { preset?: string; resize?: ResizeMode; size?: { height: number; width: number }; labels?: string };
  render: { raw: boolean; colormap: ColormapName; alpha: number };
  /** When the run was added: stamped on its records, so the report keeps input order. */
  startedAt: string;
  title?: string;
}

export interface JobData extends RunSettings {
  entries: InputEntry[];
  /** Position of the first entry in the whole run. */
  firstOrder: number;
}

/** One explained input, as a job returns it. */
export interface InputResult {
  /** Name, top classes, and where its image and maps were written (relative to `out`). */
  record: InputRecord;
  /** Every file written for it, relative to `out`. */
  outputs: string[];
}

export interface JobResult {
  inputs: InputResult[];
  /** Inputs that could not be read: they fail alone, the rest of the batch is explained. */
  unreadable: { name: string; path: string; reason: string }[];
  /** Wall time per method for the batch; of the pipeline (decode, methods, rendering, writes); of the whole job. */
  methods: { id: string; ms: number }[];
  pipelineMs: number;
  ms: number;
  worker: string;
  /** What the report says about the model and the settings (so a report needs no model). */
  model: ReportData['model'];
  settings: Record<string, string>;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

export async function fileHash(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** An input's content hash (a file's or a URL's); an unreadable one is queued all the same (the worker reports it). */
async function inputHash(path: string): Promise<string> {
  try {
    return isUrl(path) ? sha256(await fetchInput(path)) : await fileHash(path);
  } catch (e) {
    return sha256(`unreadable ${isUrl(path) ? path : resolve(path)} ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A job id: a hash of what the job's outputs depend on (BullMQ ids must not contain ':'). */
export function jobId(settings: RunSettings, labelsHash: string, inputs: { name: string; hash: string }[]): string {
  const { model: _model, startedAt: _startedAt, title: _title, ...rest } = settings;
  const key = JSON.stringify({ ...rest, labels: labelsHash, inputs });
  return `explain-${sha256(key).slice(0, 40)}`;
}

/** Cut the entries into jobs of `batchSize` inputs with their ids. */
export async function planJobs(settings: RunSettings, entries: readonly InputEntry[], batchSize: number): Promise<{ id: string; data: JobData }[]> {
  const labelsHash = settings.input.labels ? await fileHash(settings.input.labels) : '';
  const jobs: { id: string; data: JobData }[] = [];
  for (let first = 0; first < entries.length; first += batchSize) {
    const batch = entries.slice(first, first + batchSize);
    const hashes = await Promise.all(batch.map((e) => inputHash(e.path)));
    const id = jobId(settings, labelsHash, batch.map((e, i) => ({ name: e.name, hash: hashes[i]! })));
    jobs.push({ id, data: { ...settings, entries: batch.map((e) => ({ ...e, path: isUrl(e.path) ? e.path : resolve(e.path) })), firstOrder: first } });
  }
  return jobs;
}
