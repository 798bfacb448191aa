/**
 * Inputs given as http(s) URLs, for workers that share no filesystem with the machine that
 * adds the run: `queue add` reads each once (its content hash names the job), and the
 * worker downloads its batch into the job's temporary folder. A URL that cannot be read
 * fails that input alone, like an unreadable file.
 */
import { writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { InputEntry } from '../input/load-input.ts';
import { InputError } from '../input/layout.ts';

export const isUrl = (text: string): boolean => /^https?:\/\//i.test(text);

/** Entries for URLs, named by the stem of their path, made unique against `taken` (and each other). */
export function urlEntries(urls: readonly string[], taken: Iterable<string>): InputEntry[] {
  const used = new Set(taken);
  return urls.map((url) => {
    const path = new URL(url).pathname;
    const file = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || 'input';
    const stem = file.slice(0, file.length - extname(file).length) || file;
    let name = stem;
    for (let k = 2; used.has(name); k++) name = `${stem}-${k}`;
    used.add(name);
    return { kind: extname(file).toLowerCase() === '.npy' ? 'npy' : 'image', path: url, name };
  });
}

/** The body of a URL, or an InputError naming the URL and what went wrong. */
export async function fetchInput(url: string, timeoutMs = 60_000): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new InputError(`${url} cannot be fetched (${cause}): check the URL and that the workers can reach it`);
  }
  if (!response.ok) throw new InputError(`${url} answered HTTP ${response.status}: check the URL`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Download the URL entries into `dir`; the ones that fail are returned as unreadable. */
export async function localize(entries: readonly InputEntry[], dir: string): Promise<{ entries: InputEntry[]; unreadable: { name: string; path: string; reason: string }[] }> {
  const unreadable: { name: string; path: string; reason: string }[] = [];
  const local = await Promise.all(
    entries.map(async (e, i): Promise<InputEntry | undefined> => {
      if (!isUrl(e.path)) return e;
      try {
        const file = join(dir, `input-${i}${e.kind === 'npy' ? '.npy' : extname(new URL(e.path).pathname)}`);
        await writeFile(file, await fetchInput(e.path));
        return { ...e, path: file };
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        unreadable.push({ name: e.name, path: e.path, reason: error.message });
        return undefined;
      }
    }),
  );
  return { entries: local.filter((e): e is InputEntry => e !== undefined), unreadable };
}
