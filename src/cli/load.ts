/**
 * Opening a model for a command: flags over the model's own defaults (see src/app/), with
 * one-line warnings on stderr when a choice looks wrong for the model.
 */
import type { ModelProto } from '../model/onnx-proto.ts';
import type { GraphView } from '../model/graph-view.ts';
import type { ResizeMode } from '../input/image-file.ts';
import type { LoadedInputs } from '../input/load-input.ts';
import { loadInputs } from '../input/load-input.ts';
import { openModelFile } from '../app/open-model.ts';
import { DiskCache } from '../runtime/disk-cache.ts';
import type { Lens } from '../app/lens.ts';
import { readLabels } from './args.ts';

export interface InputFlags {
  preset?: string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  /** A labels file (JSON array or one per line). */
  labels?: string;
}

let cache: DiskCache | undefined;
/** The global --no-cache: compiled graphs are then neither read from nor written to the cache folder. */
export function useCompileCache(on: boolean): void {
  cache = on ? new DiskCache() : undefined;
}
useCompileCache(true);

export async function openLens(modelPath: string, flags: InputFlags): Promise<Lens> {
  const labels = readLabels(flags.labels);
  const lens = await openModelFile(modelPath, {
    ...(cache ? { cache } : {}),
    ...(flags.preset !== undefined ? { preset: flags.preset } : {}),
    ...(flags.resize !== undefined ? { resize: flags.resize } : {}),
    ...(flags.size ? { size: flags.size } : {}),
    ...(labels ? { labels } : {}),
  });
  for (const w of lens.warnings) process.stderr.write(`convlens: warning: ${w}\n`);
  return lens;
}

/** Every input at once, prepared as the lens decides (for commands that need them together). */
export async function loadAll(lens: Lens, inputs: readonly string[]): Promise<LoadedInputs> {
  const spec = lens.spec;
  return loadInputs(inputs, spec.declared, { preset: spec.preset, resize: spec.resize, inputName: spec.inputName, ...(spec.size ? { size: spec.size } : {}) });
}

/** For commands that take one batch: the model, its graph view and the inputs. */
export async function loadModelAndInputs(modelPath: string, inputs: readonly string[], flags: InputFlags): Promise<{ model: ModelProto; view: GraphView; loaded: LoadedInputs; lens: Lens }> {
  const lens = await openLens(modelPath, flags);
  return { model: lens.model, view: lens.view, loaded: await loadAll(lens, inputs), lens };
}
