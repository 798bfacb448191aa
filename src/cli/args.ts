/** Parsing of CLI option values shared by commands (each error names the expected form). */
import { readFileSync, existsSync } from 'node:fs';
import { ConvlensError } from '../errors.ts';
import type { Target } from '../targets/targets.ts';
import type { LayerRef } from '../targets/layers.ts';

export class UsageError extends ConvlensError {
  override name = 'UsageError';
}

export function parseTarget(text: string): Target {
  if (text === 'auto') return 'auto';
  const top = /^top:(\d+)$/.exec(text);
  if (top) return { topK: Number(top[1]) };
  if (/^\d+$/.test(text)) return Number(text);
  if (/^\d+(,\d+)+$/.test(text)) return text.split(',').map(Number);
  throw new UsageError(`--target '${text}' is not auto, a class index, a comma list of classes, or top:K`);
}

export function parseSize(text: string): { height: number; width: number } {
  const m = /^(\d+)(?:[,x](\d+))?$/.exec(text);
  if (!m) throw new UsageError(`--size '${text}' is not H,W (or one number for a square)`);
  const height = Number(m[1]);
  return { height, width: m[2] ? Number(m[2]) : height };
}

export function parseLayer(text: string): LayerRef {
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

export function parseNumber(name: string, min = -Infinity, max = Infinity): (text: string) => number {
  return (text) => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
      const range = max < Infinity ? ` in [${min}, ${max}]` : min > -Infinity ? ` >= ${min}` : '';
      throw new UsageError(`${name} '${text}' is not a number${range}`);
    }
    return v;
  };
}

export function parseInteger(name: string, min = 0): (text: string) => number {
  return (text) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} '${text}' is not an integer >= ${min}`);
    return v;
  };
}

export function parseList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Class labels from a JSON array or a text file with one label per line. */
export function readLabels(path: string | undefined): string[] | undefined {
  if (!path) return undefined;
  if (!existsSync(path)) throw new UsageError(`labels file '${path}' does not exist`);
  const text = readFileSync(path, 'utf8');
  if (text.trimStart().startsWith('[')) {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) throw new UsageError(`labels file '${path}' must be a JSON array of strings`);
    return parsed as string[];
  }
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}
