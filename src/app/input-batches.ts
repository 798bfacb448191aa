/**
 * Inputs as a stream of batches: entries are decoded two batches ahead of the one being
 * explained (sharp decodes on its own threads meanwhile), so memory holds about three
 * batches whatever the number of inputs. An unreadable input is reported and skipped, or
 * stops the run when `strict`.
 */
import { ConvlensError } from '../errors.ts';
import { decodeInputs, type InputEntry, type LoadedInputs } from '../input/load-input.ts';
import type { Lens } from './lens.ts';

export interface SkippedInput {
  name: string;
  path: string;
  reason: string;
}

export interface InputBatch extends LoadedInputs {
  /** Index of the batch's first input in the whole run. */
  first: number;
  skipped: SkippedInput[];
}

export interface BatchOptions {
  batchSize: number;
  /** Stop at the first unreadable input instead of skipping it. */
  strict?: boolean;
}

/** Decode one batch of entries; bad entries are skipped (or thrown when strict). */
export async function decodeBatch(lens: Lens, entries: readonly InputEntry[], strict: boolean): Promise<{ loaded: LoadedInputs | undefined; skipped: SkippedInput[] }> {
  const spec = lens.spec;
  const options = { preset: spec.preset, resize: spec.resize, inputName: spec.inputName, ...(spec.size ? { size: spec.size } : {}) };
  const each = await Promise.allSettled(entries.map((e) => decodeInputs([e], spec.declared, options)));
  const parts: LoadedInputs[] = [];
  const skipped: SkippedInput[] = [];
  each.forEach((r, i) => {
    if (r.status === 'fulfilled') parts.push(r.value);
    else {
      if (strict || !(r.reason instanceof ConvlensError)) throw r.reason;
      skipped.push({ name: entries[i]!.name, path: entries[i]!.path, reason: (r.reason as Error).message });
    }
  });
  return { loaded: parts.length ? concatLoaded(parts) : undefined, skipped };
}

function concatLoaded(parts: LoadedInputs[]): LoadedInputs {
  if (parts.length === 1) return parts[0]!;
  const itemDims = parts[0]!.tensor.dims.slice(1);
  for (const p of parts) {
    if (p.tensor.dims.slice(1).join() !== itemDims.join()) {
      throw new ConvlensError(`inputs of different sizes in one batch ([${itemDims.join(', ')}] and [${p.tensor.dims.slice(1).join(', ')}]): give --size, or run them separately`);
    }
  }
  const total = parts.reduce((n, p) => n + p.tensor.data.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(p.tensor.data, at);
    at += p.tensor.data.length;
  }
  return {
    tensor: { data, dims: [parts.reduce((n, p) => n + p.tensor.dims[0]!, 0), ...itemDims] },
    images: parts.flatMap((p) => p.images),
    names: parts.flatMap((p) => p.names),
    layout: parts[0]!.layout,
    pngFiles: parts.flatMap((p) => p.pngFiles ?? p.images.map(() => undefined)),
  };
}

/** Batches decoded ahead of the one the caller works on (sharp decodes them on its own threads meanwhile). */
const PREFETCH = 2;

/** Batches of `batchSize` entries, the next ones decoding while the caller works on this one. */
export async function* inputBatches(lens: Lens, entries: readonly InputEntry[], options: BatchOptions): AsyncGenerator<InputBatch> {
  const groups: InputEntry[][] = [];
  for (let i = 0; i < entries.length; i += options.batchSize) groups.push(entries.slice(i, i + options.batchSize));
  const strict = options.strict ?? false;
  const pending: ReturnType<typeof decodeBatch>[] = [];
  let started = 0;
  const fill = () => {
    while (started < groups.length && pending.length <= PREFETCH) {
      const decoding = decodeBatch(lens, groups[started++]!, strict);
      // A rejected prefetch surfaces when awaited; keep it from being reported as unhandled meanwhile.
      decoding.catch(() => undefined);
      pending.push(decoding);
    }
  };
  fill();
  let first = 0;
  for (const group of groups) {
    const current = await pending.shift()!;
    fill();
    if (current.loaded) yield { ...current.loaded, first, skipped: current.skipped };
    else yield { tensor: { data: new Float32Array(0), dims: [0] }, images: [], names: [], layout: lens.spec.layout, first, skipped: current.skipped };
    first += group.length;
  }
}
