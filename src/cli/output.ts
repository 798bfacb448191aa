/** Printing results: a line of text, or JSON when the global --json flag is set. */
import type { Command } from 'commander';

export const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

export const wantsJson = (command: Command): boolean => command.optsWithGlobals<{ json?: boolean }>().json === true;

export const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));
