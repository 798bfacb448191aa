/**
 * The method flags of `convlens explain`, generated from the registry's option schemas:
 * one flag per option name (an option several methods share appears once, its help naming
 * the methods and their defaults). Values are parsed by type here; ranges are checked per
 * method by the library's validation, so the CLI and the library say the same thing.
 */
import { Option, type Command } from 'commander';
import { methods } from '../methods/registry.ts';
import { describeRange, flagOf, type OptionSpec, type OptionValue } from '../methods/options.ts';
import { parseLayer, UsageError } from './args.ts';

export interface MethodFlag {
  flag: string;
  /** The option's name in the library (one per flag). */
  name: string;
  /** The methods that take it, with their spec. */
  uses: { method: string; spec: OptionSpec }[];
}

/** Every method option of the registry, grouped by flag (registry order). */
export function methodFlags(): MethodFlag[] {
  const byFlag = new Map<string, MethodFlag>();
  for (const m of methods) {
    for (const spec of m.options) {
      const flag = flagOf(spec);
      const entry = byFlag.get(flag) ?? { flag, name: spec.name, uses: [] };
      if (entry.name !== spec.name) throw new Error(`internal: flag --${flag} maps to options '${entry.name}' and '${spec.name}'`);
      entry.uses.push({ method: m.id, spec });
      byFlag.set(flag, entry);
    }
  }
  return [...byFlag.values()];
}

const show = (v: unknown) => (v === null ? 'unset' : String(v));

/** Help text: the first spec's help, the valid values, and who uses it with which default. */
export function flagHelp(f: MethodFlag): string {
  const first = f.uses[0]!.spec;
  const all = f.uses.length === methods.length;
  const defaults = new Map<string, string[]>();
  for (const u of f.uses) defaults.set(show(u.spec.default), [...(defaults.get(show(u.spec.default)) ?? []), u.method]);
  const byDefault = [...defaults.entries()];
  const defaultText =
    byDefault.length === 1 ? `default: ${byDefault[0]![0]}` : `default: ${byDefault.map(([v, ids]) => `${v} for ${ids.length > 3 ? 'the others' : ids.join(', ')}`).join('; ')}`;
  const who = all ? 'every method' : f.uses.map((u) => u.method).join(', ');
  const range = first.type === 'choice' ? '' : describeRange(first);
  return `${who}: ${first.help}${range ? ` [${range}]` : ''} (${defaultText})`;
}

function parser(f: MethodFlag): (text: string) => OptionValue {
  const spec = f.uses[0]!.spec;
  const words = new Set(f.uses.flatMap((u) => u.spec.choices ?? []));
  const fail = (text: string) => new UsageError(`--${f.flag} '${text}' is not valid: expected ${describeRange(spec)}`);
  return (text) => {
    if (spec.type === 'layer') return parseLayer(text);
    if (spec.type === 'string' || spec.type === 'choice') return text;
    if (words.has(text)) return text;
    const parts = text.split(',').map((s) => Number(s.trim()));
    if (parts.length !== (spec.length ?? 1) || parts.some((v) => !Number.isFinite(v) || (spec.type === 'integer' && !Number.isInteger(v)))) throw fail(text);
    return spec.length ? parts : parts[0]!;
  };
}

/** Add every method flag to `command` (none has a commander default: unset means the method's own). */
export function addMethodFlags(command: Command): Command {
  const taken = new Set(command.options.map((o) => o.long));
  for (const f of methodFlags()) {
    const spec = f.uses[0]!.spec;
    const boolean = spec.type === 'boolean';
    const long = boolean && spec.default === true ? `--no-${f.flag}` : `--${f.flag}`;
    if (taken.has(long) || taken.has(`--${f.flag}`)) throw new Error(`internal: method option '${f.name}' collides with the command flag --${f.flag}; give it its own 'flag'`);
    const option = new Option(boolean ? long : `${long} <value>`, flagHelp(f));
    if (spec.type === 'choice') option.choices([...new Set(f.uses.flatMap((u) => u.spec.choices ?? []))]);
    else if (!boolean) option.argParser(parser(f));
    command.addOption(option);
  }
  return command;
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The method options given on the command line, by option name. A flag that none of the
 * chosen methods takes is a usage error naming the methods that do.
 */
export function methodFlagValues(flags: Record<string, unknown>, chosen: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of methodFlags()) {
    const value = flags[camel(f.flag)];
    const spec = f.uses[0]!.spec;
    if (value === undefined || (spec.type === 'boolean' && value === spec.default)) continue;
    if (!f.uses.some((u) => chosen.includes(u.method))) {
      throw new UsageError(`--${f.flag} is an option of ${f.uses.map((u) => u.method).join(', ')}, not of ${chosen.join(', ')}`);
    }
    out[f.name] = value;
  }
  return out;
}
