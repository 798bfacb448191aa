/**
 * `explain --json` and `demo --json`: the run's summary with one record per written file
 * (input, kind, method, class, label, layer, path) instead of a flat list of paths.
 */
import { join, resolve } from 'node:path';
import type { ExplainSummary } from './run-explain.ts';

export interface FileRecord {
  input: string;
  /** 'input': the image as the model saw it; 'picture': a rendered result; 'raw': its values (.npy). */
  kind: 'input' | 'picture' | 'raw';
  method?: string;
  class?: number;
  label?: string;
  layer?: string;
  /** What the picture's colours stand for. */
  scale?: { colormap: string; min: number; max: number };
  path: string;
}

export function explainJson(summary: ExplainSummary, out: string): Record<string, unknown> {
  const at = (src: string) => resolve(join(out, src));
  const files: FileRecord[] = summary.records.flatMap((r) => [
    { input: r.name, kind: 'input' as const, path: at(r.image.src) },
    ...r.cells.flatMap((c) => {
      const what = { input: r.name, method: c.method, ...(c.class !== undefined ? { class: c.class } : {}), ...(c.label !== undefined ? { label: c.label } : {}), ...(c.layer !== undefined ? { layer: c.layer } : {}) };
      return [{ ...what, kind: 'picture' as const, ...(c.scale ? { scale: c.scale } : {}), path: at(c.src) }, ...(c.raw ? [{ ...what, kind: 'raw' as const, path: at(c.raw) }] : [])];
    }),
  ]);
  const { records: _records, files: _paths, ...rest } = summary;
  return { ...rest, files };
}
