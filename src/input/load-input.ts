/**
 * Paths given by the user -> one input batch for the model (Node only).
 *
 * Each path is
 *  - an image file (any format sharp reads), resized to the model's size and normalized;
 *  - a folder: its image files (by extension, see imageExtensions), sorted by file name
 *    (plain code-unit order), other files and subfolders skipped;
 *  - a `.npy` float32/float64 array used as-is (already preprocessed), whose shape must
 *    match the model input except the batch dim: [C, H, W] / [H, W, C] is one input,
 *    [N, ...] is N inputs.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Tensor } from '../runtime/session.ts';
import { NpyError, parseNpy } from '../runtime/npy.ts';
import { InputError, batchDims, detectLayout, showDims, type InputLayout } from './layout.ts';
import { channelNormalization, type Preset } from './presets.ts';
import { imageToTensor, tensorToImages, type RgbImage } from './preprocess.ts';
import { imageFormatsText, loadImageForModel, type ResizeMode } from './image-file.ts';

/** File extensions treated as images inside folders (lower case). */
export const imageExtensions: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.svg'];

export interface LoadInputsOptions {
  /** Normalization for image files; for .npy files only used to make the displayable image. */
  preset: Preset | string;
  resize: ResizeMode;
  /** Target size (square when a number); default: the model's declared spatial size. */
  size?: number | { height: number; width: number };
  /** For 'center-crop' (default 0.875). */
  cropFraction?: number;
  /** The model input's name, for error messages (default 'input'). */
  inputName?: string;
}

export interface LoadedInputs {
  /** The batch, [N, C, H, W] or [N, H, W, C]. */
  tensor: Tensor;
  /** What the model sees, one per batch item (for .npy inputs: de-normalized with the preset). */
  images: RgbImage[];
  /** File stems, one per batch item ('stem_i' for items of a .npy batch); repeated names get '-2', '-3'. */
  names: string[];
  layout: InputLayout;
  /** Per batch item, the PNG file that shows exactly its image, if it is one (LoadedImage.png). */
  pngFiles?: (Uint8Array | undefined)[];
}

/** One input path as found on disk: an image file or a .npy file (which may hold several inputs). */
export interface InputEntry {
  kind: 'image' | 'npy';
  path: string;
  /** The file stem, made unique over the whole run ('-2', '-3' for repeats). */
  name: string;
}

/** Expand files and folders into entries, without reading any image (cheap for large folders). */
export async function discoverInputs(paths: readonly string[]): Promise<InputEntry[]> {
  if (paths.length === 0) throw new InputError('no inputs given: pass image files, folders of images or .npy files');
  const found: { kind: 'image' | 'npy'; path: string }[] = [];
  for (const path of paths) found.push(...(await expandPath(path)));
  const names = dedupe(found.map((e) => basename(e.path, extname(e.path))));
  return found.map((e, i) => ({ ...e, name: names[i]! }));
}

export async function loadInputs(
  paths: readonly string[],
  modelInputDims: readonly (number | undefined)[],
  options: LoadInputsOptions,
): Promise<LoadedInputs> {
  return decodeInputs(await discoverInputs(paths), modelInputDims, options);
}

/** Read, resize and normalize entries into one batch. */
export async function decodeInputs(
  entries: readonly InputEntry[],
  modelInputDims: readonly (number | undefined)[],
  options: LoadInputsOptions,
): Promise<LoadedInputs> {
  const inputName = options.inputName ?? 'input';
  const layout = detectLayout(modelInputDims, inputName);
  channelNormalization(options.preset, layout.channels); // fail early on a bad preset
  let target = targetSize(layout, options.size, modelInputDims, inputName);
  if (!target && entries.some((e) => e.kind === 'image')) {
    throw new InputError(
      `input '${inputName}' has shape ${showDims(modelInputDims)} with a symbolic height/width: give the image size with the size option (e.g. 224)`,
    );
  }

  const chunks: Float32Array[] = [];
  const images: RgbImage[] = [];
  const names: string[] = [];
  const pngFiles: (Uint8Array | undefined)[] = [];
  for (const entry of entries) {
    if (entry.kind === 'image') {
      const t = target!;
      const { image, png } = await loadImageForModel(entry.path, {
        height: t.height,
        width: t.width,
        resize: options.resize,
        ...(options.cropFraction !== undefined ? { cropFraction: options.cropFraction } : {}),
      });
      chunks.push(imageToTensor([image], layout, options.preset).data);
      images.push(image);
      names.push(entry.name);
      pngFiles.push(png);
      continue;
    }
    const npy = await readNpyFile(entry.path);
    const items = splitNpy(npy, entry.path, layout, modelInputDims, target, inputName);
    target = items.size;
    items.chunks.forEach((chunk, i) => {
      chunks.push(chunk);
      images.push(...tensorToImages({ data: chunk, dims: batchDims(layout, 1, items.size.height, items.size.width) }, layout, options.preset));
      names.push(items.chunks.length === 1 ? entry.name : `${entry.name}_${i}`);
      pngFiles.push(undefined);
    });
  }
  if (chunks.length === 0) return { tensor: { data: new Float32Array(0), dims: batchDims(layout, 0, target?.height ?? 0, target?.width ?? 0) }, images, names, layout };
  const { height, width } = target!;
  const itemSize = height * width * layout.channels;
  // One input (each of a batch decoded on its own, see app/input-batches.ts) is its own tensor.
  const data = chunks.length === 1 ? chunks[0]! : new Float32Array(chunks.length * itemSize);
  if (chunks.length > 1) chunks.forEach((c, i) => data.set(c, i * itemSize));
  return { tensor: { data, dims: batchDims(layout, chunks.length, height, width) }, images, names, layout, pngFiles };
}

function targetSize(
  layout: InputLayout,
  size: LoadInputsOptions['size'],
  dims: readonly (number | undefined)[],
  inputName: string,
): { height: number; width: number } | undefined {
  if (size !== undefined) {
    const s = typeof size === 'number' ? { height: size, width: size } : size;
    if (!Number.isInteger(s.height) || !Number.isInteger(s.width) || s.height <= 0 || s.width <= 0) {
      throw new InputError(`size must be a positive integer (or height and width), got ${JSON.stringify(size)}`);
    }
    if ((layout.height !== undefined && layout.height !== s.height) || (layout.width !== undefined && layout.width !== s.width)) {
      throw new InputError(
        `size ${s.height}x${s.width} (HxW) does not match input '${inputName}' of shape ${showDims(dims)}: drop the size option or use ${layout.height ?? '?'}x${layout.width ?? '?'}`,
      );
    }
    return { height: s.height, width: s.width };
  }
  if (layout.height !== undefined && layout.width !== undefined) return { height: layout.height, width: layout.width };
  return undefined;
}

async function expandPath(path: string): Promise<{ kind: 'image' | 'npy'; path: string }[]> {
  let isDir: boolean;
  let isFile: boolean;
  try {
    const st = await stat(path);
    isDir = st.isDirectory();
    isFile = st.isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`'${path}' does not exist: check the path`);
    throw new InputError(`'${path}' cannot be read: ${(e as Error).message}`);
  }
  if (!isDir && !isFile) throw new InputError(`'${path}' is not a regular file or folder (a pipe, socket or device): save the input to a file`);
  if (!isDir) return [{ kind: extname(path).toLowerCase() === '.npy' ? 'npy' : 'image', path }];
  const dirents = await readdir(path, { withFileTypes: true });
  const files = dirents
    .filter((d) => (d.isFile() || d.isSymbolicLink()) && imageExtensions.includes(extname(d.name).toLowerCase()))
    .map((d) => d.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (files.length === 0) {
    throw new InputError(`folder '${path}' has no image files (${imageFormatsText}; by extension): put images in it or pass the files directly`);
  }
  return files.map((f) => ({ kind: 'image' as const, path: join(path, f) }));
}

async function readNpyFile(path: string): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`'${path}' cannot be read: ${(e as Error).message}`);
  }
  try {
    return parseNpy(bytes);
  } catch (e) {
    if (e instanceof NpyError) throw new InputError(`'${path}': ${e.message}`);
    throw e;
  }
}

/** Check a .npy array against the model input and cut it into per-item chunks. */
function splitNpy(
  npy: Tensor,
  path: string,
  layout: InputLayout,
  modelDims: readonly (number | undefined)[],
  target: { height: number; width: number } | undefined,
  inputName: string,
): { chunks: Float32Array[]; size: { height: number; width: number } } {
  // The per-item shape the model takes; spatial dims from the target size when known.
  const expected = modelDims.slice(1);
  if (target) {
    const [hi, wi] = layout.layout === 'nchw' ? [1, 2] : [0, 1];
    expected[hi] = target.height;
    expected[wi] = target.width;
  }
  const item = npy.dims.length === 3 ? npy.dims : npy.dims.length === 4 ? npy.dims.slice(1) : undefined;
  if (!item || item.some((d, i) => expected[i] !== undefined && expected[i] !== d)) {
    throw new InputError(
      `'${path}' has shape [${npy.dims.join(', ')}] but input '${inputName}' takes ${showDims(modelDims)}: save an array of shape ${showDims(expected)} or ${showDims(['N', ...expected])}`,
    );
  }
  const batch = npy.dims.length === 4 ? npy.dims[0]! : 1;
  if (batch === 0) throw new InputError(`'${path}' has shape [${npy.dims.join(', ')}]: an empty batch, save at least one input`);
  const [height, width] = layout.layout === 'nchw' ? [item[1]!, item[2]!] : [item[0]!, item[1]!];
  const n = item.reduce((a, b) => a * b, 1);
  const chunks = Array.from({ length: batch }, (_, i) => npy.data.slice(i * n, (i + 1) * n));
  return { chunks, size: { height, width } };
}

/** ['a', 'b', 'a'] -> ['a', 'b', 'a-2'] */
function dedupe(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let k = 2; used.has(name); k++) name = `${n}-${k}`;
    used.add(name);
    return name;
  });
}
