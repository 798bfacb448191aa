/**
 * Method options as data: each method declares a schema (name, type, default, range or
 * choices, one line of help), and that one declaration generates the CLI flags of
 * `convlens explain`, the explorer's controls, the README table and the validation below
 * (library and web API alike). An unknown or misspelled key is an error that names the
 * valid ones.
 */
import { OptionError } from '../errors.ts';
import { closest } from '../closest.ts';
import type { Tensor } from '../runtime/session.ts';

/**
 * 'number'/'integer': a number (`choices`, if any, are words also accepted, e.g. a baseline
 * 'blur'); 'choice': one of `choices`; 'layer': a layer name or index; 'string'; 'boolean'.
 */
export type OptionType = 'number' | 'integer' | 'boolean' | 'string' | 'choice' | 'layer';

export type OptionValue = number | boolean | string | null | readonly number[] | Tensor;

export interface OptionSpec {
  name: string;
  type: OptionType;
  /** null: unset unless given (the method then does its default thing). */
  default: number | boolean | string | null;
  help: string;
  /** Inclusive bounds of numbers. */
  min?: number;
  max?: number;
  /** Exclusive lower bound of numbers. */
  above?: number;
  choices?: readonly string[];
  /** A list of exactly this many integers (e.g. a [y, x] position). */
  length?: number;
  /** The library also takes a tensor of the image's shape (e.g. a baseline image). */
  tensor?: boolean;
  /** The CLI flag, when the option's own name is taken by a common flag (e.g. --layer). */
  flag?: string;
}

export type OptionSchema = readonly OptionSpec[];

/** The options every method takes (CommonOptions in types.ts). */
export const commonOptionNames = ['target', 'output', 'targetLayers', 'fuse', 'counterfactual', 'batchSize', 'seed'] as const;

export function defaultsOf(schema: OptionSchema): Record<string, OptionValue> {
  return Object.fromEntries(schema.map((o) => [o.name, o.default]));
}

/** The CLI flag of an option (camelCase -> kebab-case unless it has its own). */
export function flagOf(o: OptionSpec): string {
  return o.flag ?? o.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The valid range or choices of an option, as help text shows it ('' when any value goes). */
export function describeRange(o: OptionSpec): string {
  if (o.type === 'choice') return (o.choices ?? []).join('|');
  if (o.type === 'boolean') return 'true|false';
  const bounds = [o.above !== undefined ? `> ${o.above}` : '', o.min !== undefined ? `>= ${o.min}` : '', o.max !== undefined ? `<= ${o.max}` : ''].filter(Boolean).join(', ');
  const kind = o.length ? `${o.length} integers` : o.type === 'layer' ? 'layer name or index' : o.type;
  return [kind + (bounds ? ` ${bounds}` : ''), ...(o.choices ?? [])].join(' or ');
}

export { closest };

const isTensor = (v: unknown): v is Tensor => typeof v === 'object' && v !== null && 'data' in v && 'dims' in v;

/** Check one value against its spec; returns it (as given) or throws OptionError. */
export function checkValue(method: string, o: OptionSpec, v: unknown): OptionValue {
  const bad = (why: string) => new OptionError(`${method} option '${o.name}' ${why}: expected ${describeRange(o)}`);
  if (v === null && o.default === null) return null;
  if (o.tensor && isTensor(v)) return v;
  if (typeof v === 'string' && (o.type === 'number' || o.type === 'integer') && o.choices?.includes(v)) return v;
  switch (o.type) {
    case 'boolean':
      if (typeof v !== 'boolean') throw bad(`is ${JSON.stringify(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw bad(`is ${JSON.stringify(v)}`);
      return v;
    case 'choice':
      if (typeof v !== 'string' || !o.choices?.includes(v)) throw bad(`is ${JSON.stringify(v)}`);
      return v;
    case 'layer':
      if (typeof v !== 'string' && !Number.isInteger(v)) throw bad(`is ${JSON.stringify(v)}`);
      return v as string | number;
    default: {
      const values = o.length ? v : [v];
      if (!Array.isArray(values) || values.length !== (o.length ?? 1)) throw bad(`is ${JSON.stringify(v)}`);
      for (const x of values) {
        if (typeof x !== 'number' || !Number.isFinite(x) || (o.type === 'integer' && !Number.isInteger(x))) throw bad(`is ${JSON.stringify(v)}`);
        if ((o.min !== undefined && x < o.min) || (o.max !== undefined && x > o.max) || (o.above !== undefined && !(x > o.above))) throw bad(`is ${x}, out of range`);
      }
      return v as number | readonly number[];
    }
  }
}

/**
 * The method's options from `given` (common options are skipped), checked and completed
 * with the defaults. Unknown keys throw, naming the valid options (and the likely one).
 */
export function validateOptions(method: string, schema: OptionSchema, given: Record<string, unknown>): Record<string, OptionValue> {
  const own = schema.map((o) => o.name);
  const common: readonly string[] = commonOptionNames;
  const out = defaultsOf(schema);
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined || common.includes(key)) continue;
    const spec = schema.find((o) => o.name === key);
    if (!spec) {
      const guess = closest(key, [...own, ...common]);
      throw new OptionError(
        `${method} has no option '${key}'${guess ? `; did you mean '${guess}'?` : ''} (${method} options: ${own.join(', ') || 'none'}; every method: ${common.join(', ')})`,
      );
    }
    out[key] = checkValue(method, spec, value);
  }
  return out;
}

/** The keys of `given` that `schema` or the common options know (to share one option set among several methods). */
export function pickOptions<T extends Record<string, unknown>>(schema: OptionSchema, given: T): Partial<T> {
  const known = new Set<string>([...commonOptionNames, ...schema.map((o) => o.name)]);
  return Object.fromEntries(Object.entries(given).filter(([k]) => known.has(k))) as Partial<T>;
}
