/**
 * "Did you mean" for the command line: every flag with a fixed set of values (presets,
 * colormaps, resize modes, method option choices, ...) and the method and metric lists
 * name the likely intended value (closest() of the option schemas) and the valid ones.
 */
import type { Command } from 'commander';
import { closest } from '../closest.ts';
import { methodIds } from '../methods/registry.ts';
import { parseList, UsageError } from './args.ts';

/** "; did you mean 'x'?" when one of `names` is a likely misspelling of `value`, else ''. */
export function didYouMean(value: string, names: readonly string[]): string {
  const guess = closest(value, names);
  return guess ? `; did you mean '${guess}'?` : '';
}

/** `what 'value'` is not valid: the likely one and every choice, in one line. */
export function unknownValue(what: string, value: string, names: readonly string[]): UsageError {
  return new UsageError(`unknown ${what} '${value}'${didYouMean(value, names)} (choices: ${names.join(', ')})`);
}

/** A comma list of method ids, each checked against the registry. */
export function parseMethods(text: string): string[] {
  const ids = parseList(text);
  if (ids.length === 0) throw new UsageError(`--method '${text}' names no method: give one or more of ${methodIds.join(', ')}`);
  for (const id of ids) if (!methodIds.includes(id)) throw unknownValue('method', id, methodIds);
  return ids;
}

/**
 * Replace commander's choice check ("argument 'x' is invalid. Allowed choices are ...")
 * on every option of `command` and its subcommands with one that suggests the closest.
 */
export function suggestChoices(command: Command): void {
  for (const option of command.options) {
    const choices = option.argChoices;
    if (!choices) continue;
    const flag = option.long ?? option.flags;
    option.argParser((value: string) => {
      if (!choices.includes(value)) {
        const guess = didYouMean(value, choices);
        throw new UsageError(`${flag} '${value}' is not valid${guess} (choices: ${choices.join(', ')})`);
      }
      return value;
    });
  }
  for (const sub of command.commands) suggestChoices(sub);
}
