/**
 * Compiled graphs remembered on disk, so that a second run on the same model starts without
 * specializing and compiling again. An entry is the compiled ONNX model (for a graph
 * onnxruntime optimized: the graph, and its weights in a file beside it) and a small JSON
 * description, keyed by the model's content hash, the compile request (input shape, rule
 * set, ...) and a fingerprint of convlens' own code (any change to the compiler is a miss,
 * never a stale graph), and of this machine (onnxruntime's version and the CPU, for the
 * graphs onnxruntime optimized). Entries are written through a temporary file and a rename;
 * the folder is kept under a size bound by deleting the least recently used entries.
 *
 * Folder: $CONVLENS_CACHE_DIR, else $XDG_CACHE_HOME/convlens, else ~/.cache/convlens.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { codeRoot } from '../package-files.ts';
import { readAt } from '../read-at.ts';

export const defaultCacheBytes = 2 * 1024 ** 3;

export function defaultCacheDir(): string {
  const env = process.env;
  if (env['CONVLENS_CACHE_DIR']) return env['CONVLENS_CACHE_DIR'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'convlens');
}

let fingerprint: string | undefined;
/** A hash of every code file of convlens that runs (src/ in a checkout, dist/ or the bundle in dist/bin/ when installed; not type declarations). */
function codeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const root = codeRoot;
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(root);
  return (fingerprint = hash.digest('hex'));
}

let machine: string | undefined;
/**
 * The onnxruntime version and this CPU (model and instruction set flags): graphs that
 * onnxruntime optimized for one machine are kept apart from another's.
 */
function machineFingerprint(): string {
  if (machine) return machine;
  let ort = '';
  try {
    ort = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // not installed here: the browser build never reaches this file
  }
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux: the CPU model name stands alone
  }
  return (machine = `${ort} ${process.arch} ${cpus()[0]?.model ?? ''} ${flags}`);
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** contentHash of a file's bytes, read through one 4 MB buffer (no copy of a 100 MB model in memory). */
function fileContentHash(path: string): string {
  const hash = createHash('sha256');
  const chunk = new Uint8Array(4 * 1024 ** 2);
  const fd = openSync(path, 'r');
  try {
    for (let at = 0, got = 0; (got = readAt(fd, chunk, at)) > 0; at += got) hash.update(chunk.subarray(0, got));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

const temporary = '.tmp-';

export interface CacheEntry {
  bytes: Uint8Array;
  info: unknown;
}

export class DiskCache {
  /** What happened so far (tests and --verbose read it). */
  readonly counts = { hits: 0, misses: 0, writes: 0, evictions: 0 };
  readonly dir: string;

  constructor(
    dir = defaultCacheDir(),
    /** Total size kept at most; the least recently used entries go beyond it. */
    readonly maxBytes = defaultCacheBytes,
  ) {
    this.dir = join(dir, 'compiled');
    this.hashes = join(dir, 'hashes');
  }

  private readonly hashes: string;

  private file(modelHash: string, key: string): string {
    const id = createHash('sha256').update(`${modelHash}\0${key}\0${codeFingerprint()}\0${machineFingerprint()}`).digest('hex').slice(0, 40);
    return join(this.dir, id);
  }

  /**
   * The content hash of a file, remembered by its path, size, modification time and inode
   * (hashing a 100 MB model costs more than a run's other start-up work together).
   */
  fileHash(path: string): string {
    const st = statSync(path);
    const id = `${st.size} ${st.mtimeMs} ${st.ino} ${st.dev}`;
    const memo = join(this.hashes, createHash('sha256').update(resolve(path)).digest('hex').slice(0, 40));
    try {
      const [seen, hash] = readFileSync(memo, 'utf8').split('\n');
      if (seen === id && hash && /^[0-9a-f]{64}$/.test(hash)) return hash;
    } catch {
      // not seen yet
    }
    const hash = fileContentHash(path);
    try {
      mkdirSync(this.hashes, { recursive: true });
      const tmp = `${memo}${temporary}${process.pid}`;
      writeFileSync(tmp, `${id}\n${hash}`);
      renameSync(tmp, memo);
    } catch {
      // a read-only cache folder: hashed again next time
    }
    return hash;
  }

  /** An entry's file (marked as used) and its description, without reading the file. */
  locate(modelHash: string, key: string): { path: string; info: unknown } | undefined {
    return this.lookup(modelHash, key, (path, info) => ({ path, info }));
  }

  read(modelHash: string, key: string): CacheEntry | undefined {
    return this.lookup(modelHash, key, (path, info) => ({ bytes: readFileSync(path), info }));
  }

  /** An entry through `take` (given its file and description), marked as used; a missing or damaged entry is a miss. */
  private lookup<T>(modelHash: string, key: string, take: (path: string, info: unknown) => T): T | undefined {
    const base = this.file(modelHash, key);
    try {
      const value = take(`${base}.onnx`, readDescription(`${base}.json`).info);
      const now = new Date();
      utimesSync(`${base}.onnx`, now, now);
      this.counts.hits++;
      return value;
    } catch {
      this.counts.misses++;
      return undefined;
    }
  }

  /** Store an entry; a full disk or a read-only folder only costs the cache, never the run. */
  write(modelHash: string, key: string, entry: CacheEntry): void {
    const target = this.target(modelHash, key, entry.info);
    if (!target) return;
    try {
      writeFileSync(target.path, entry.bytes);
    } catch {
      rmSync(target.path, { force: true });
      return;
    }
    target.commit();
  }

  /**
   * A temporary file for the bytes of entry `key` (written by `write`, or by onnxruntime
   * saving a graph it optimized), a file name beside it for the graph's weights (used by
   * onnxruntime only), and `commit` to make them the entry, with `info`.
   */
  target(modelHash: string, key: string, info: unknown): { path: string; weights: string; commit(): void } | undefined {
    const base = this.file(modelHash, key);
    const unique = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    const tmp = `${temporary}${unique}`;
    // Named for good from the start: the graph file names it. Unused, it goes with the temporaries.
    const weights = `${basename(base)}-${unique}${weightsSuffix}`;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch {
      return undefined;
    }
    return {
      path: `${base}.onnx${tmp}`,
      weights,
      commit: () => {
        const saved = existsSync(join(this.dir, weights));
        const replaced = readDescription(`${base}.json`, true).weights;
        try {
          renameSync(`${base}.onnx${tmp}`, `${base}.onnx`);
          // The description last: an entry is visible only when all its files are whole.
          const description: Description = { info, ...(saved ? { weights } : {}) };
          writeFileSync(`${base}.json${tmp}`, JSON.stringify(description));
          renameSync(`${base}.json${tmp}`, `${base}.json`);
          if (replaced && replaced !== weights) rmSync(join(this.dir, replaced), { force: true });
          this.counts.writes++;
          this.trim();
        } catch {
          rmSync(`${base}.onnx${tmp}`, { force: true });
          rmSync(`${base}.json`, { force: true });
          rmSync(join(this.dir, weights), { force: true });
        }
      },
    };
  }

  /** Delete least recently used entries until the folder is within its bound. */
  private trim(): void {
    const files = readdirSync(this.dir);
    const size = (f: string) => statSync(join(this.dir, f), { throwIfNoEntry: false })?.size ?? 0;
    const entries = files
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => {
        const base = join(this.dir, f.slice(0, -'.onnx'.length));
        const st = statSync(`${base}.onnx`);
        const weights = readDescription(`${base}.json`, true).weights;
        return { base, weights, size: st.size + (weights ? size(weights) : 0), used: st.mtimeMs };
      })
      .sort((a, b) => a.used - b.used);
    // Temporaries, and weights no entry names (a session that failed), of a process that died, an hour on.
    const named = new Set(entries.map((e) => e.weights));
    for (const f of files.filter((f) => f.includes(temporary) || (f.endsWith(weightsSuffix) && !named.has(f)))) {
      const path = join(this.dir, f);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > 3600e3) rmSync(path, { force: true });
    }
    let total = entries.reduce((s, e) => s + e.size, 0);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      rmSync(`${e.base}.json`, { force: true });
      rmSync(`${e.base}.onnx`, { force: true });
      if (e.weights) rmSync(join(this.dir, e.weights), { force: true });
      total -= e.size;
      this.counts.evictions++;
    }
  }
}

const weightsSuffix = '.weights';

/** An entry's description file: the caller's info, and the name of its weights file if it has one. */
interface Description {
  info: unknown;
  weights?: string;
}

/** A description file; with `lenient`, a missing or damaged one reads as empty (else it throws: a miss). */
function readDescription(path: string, lenient = false): Description {
  try {
    const d = JSON.parse(readFileSync(path, 'utf8')) as Description;
    if (typeof d !== 'object' || d === null || !('info' in d) || (d.weights !== undefined && !/^[0-9a-f]{40}-[0-9]+-[0-9a-z]+\.weights$/.test(d.weights))) throw new Error('not a description');
    return d;
  } catch (e) {
    if (lenient) return { info: undefined };
    throw e;
  }
}
