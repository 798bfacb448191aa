/**
 * The static explorer as a folder of files (`convlens site`): the page built in Vite's
 * 'site' mode (web/vite.config.js), onnxruntime-web's wasm build in `ort/` (no CDN), and
 * the model the page opens with plus its sample images in `bundled/` (manifest.json).
 * Any file server can serve it; one that sends COOP/COEP headers gives onnxruntime-web
 * its threads. Node only (the page itself is browser code).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConvlensError } from '../../errors.ts';
import { imageExtensions } from '../../input/load-input.ts';
import type { ModelSettings } from '../workspace-core.ts';
import type { SiteManifest } from './protocol.ts';

export interface SiteOptions {
  /** Output folder: created, or replaced when it holds an earlier site. */
  out: string;
  /** The model the page opens with (none: the page asks for one). */
  model?: { bytes: Uint8Array; settings: ModelSettings };
  /** Sample image files offered next to it. */
  samples?: readonly string[];
}

export interface SiteSummary {
  out: string;
  files: number;
  bytes: number;
  /** 'vite': built from the sources; 'prebuilt': copied from web/dist-site. */
  page: 'vite' | 'prebuilt';
}

const webDir = fileURLToPath(new URL('../../../web/', import.meta.url));
const prebuiltDir = join(webDir, 'dist-site');
/** onnxruntime-web's wasm + WebGPU (JSEP) build, loaded by the worker at run time. */
const ortFiles = ['ort.min.mjs', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

/** A folder is ours to replace when it is missing, empty or an earlier convlens site (or explorer page build). */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new ConvlensError(`'${out}' is a file: give a folder for the site (--out DIR)`);
  const entries = readdirSync(out);
  const page = join(out, 'index.html');
  const earlier = existsSync(join(out, 'bundled', 'manifest.json')) || (existsSync(page) && readFileSync(page, 'utf8').includes('<title>convlens explorer</title>'));
  if (entries.length > 0 && !earlier) {
    throw new ConvlensError(`'${out}' is not empty and holds no convlens site: give a new or empty folder (--out DIR)`);
  }
}

async function buildPage(out: string): Promise<SiteSummary['page']> {
  let vite: typeof import('vite') | undefined;
  try {
    // A variable specifier: vite is a development dependency, absent from installed packages.
    const name = 'vite';
    vite = (await import(name)) as typeof import('vite');
  } catch {
    vite = undefined;
  }
  if (vite && existsSync(join(webDir, 'index.html'))) {
    await vite.build({ configFile: join(webDir, 'vite.config.js'), mode: 'site', logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    return 'vite';
  }
  if (!existsSync(join(prebuiltDir, 'index.html'))) {
    throw new ConvlensError(`the static explorer's page is not built (${prebuiltDir}) and Vite is not installed: run npm run build:site in a convlens checkout`);
  }
  if (out === prebuiltDir) return 'prebuilt';
  rmSync(out, { recursive: true, force: true });
  // The page only: ort/ comes from the installed onnxruntime-web, bundled/ from the options.
  const skipped = [join(prebuiltDir, 'bundled'), join(prebuiltDir, 'ort')];
  cpSync(prebuiltDir, out, { recursive: true, filter: (src) => !skipped.some((d) => src === d || src.startsWith(d + sep)) });
  return 'prebuilt';
}

function copyOrt(out: string): void {
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  mkdirSync(join(out, 'ort'), { recursive: true });
  for (const f of ortFiles) {
    if (!existsSync(join(dist, f))) throw new ConvlensError(`onnxruntime-web has no ${f} (${dist}): reinstall convlens's dependencies (npm ci)`);
    cpSync(join(dist, f), join(out, 'ort', f));
  }
}

function writeBundled(out: string, options: SiteOptions): void {
  const dir = join(out, 'bundled');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'samples'), { recursive: true });
  const manifest: SiteManifest = { model: null, samples: [] };
  if (options.model) {
    writeFileSync(join(dir, 'model.onnx'), options.model.bytes);
    manifest.model = { file: 'model.onnx', settings: options.model.settings };
  }
  const names = new Set<string>();
  for (const path of options.samples ?? []) {
    const ext = extname(path).toLowerCase();
    const name = basename(path, extname(path));
    if (!imageExtensions.includes(ext) || names.has(name)) continue;
    names.add(name);
    const file = `samples/${names.size - 1}${ext}`;
    cpSync(path, join(dir, file));
    manifest.samples.push({ name, file });
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

export async function buildSite(options: SiteOptions): Promise<SiteSummary> {
  const out = resolve(options.out);
  checkOut(out);
  const page = await buildPage(out);
  copyOrt(out);
  writeBundled(out, options);
  return { out, ...measure(out), page };
}
