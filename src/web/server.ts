/**
 * The explorer's HTTP server (node:http, no framework): the built single-page app from
 * web/dist and the JSON API documented in API.md. Heavy work goes through a queue of one
 * and runs in a child process with a time budget (isolated-workspace.ts), so the server
 * stays responsive and killable whatever the model does; a bad request gets a 4xx with
 * `{error}` and never stops the server.
 *
 * Browser-facing defenses: only Host headers naming this machine or the bound host are
 * served (DNS rebinding), state-changing requests from another origin are refused and
 * JSON bodies must be sent as application/json (CSRF: a page elsewhere cannot post a
 * "simple" text/plain request), every response forbids framing and sniffing and carries a
 * Content-Security-Policy, and slow clients are cut off by header and request timeouts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { ConvlensError } from '../errors.ts';
import { methods, requestOptions } from '../methods/registry.ts';
import { defaultsOf } from '../methods/options.ts';
import { imageExtensions } from '../input/load-input.ts';
import { resizeModes, type ResizeMode } from '../input/image-file.ts';
import { isPresetName } from '../input/presets.ts';
import { colormapNames, type ColormapName } from '../viz/colormaps.ts';
import type { MethodEntry, SampleEntry, StatusResponse } from './api-types.ts';
import { JobQueue, QueueAbortError } from './queue.ts';
import { CancelledError } from '../methods/context.ts';
import { methodEntries } from './method-entries.ts';
import { CONTENT_TYPES } from './content-types.ts';
import { NotFoundError, type ModelSettings } from './workspace.ts';
import type { ExplainArgs } from './workspace-core.ts';
import { defaultTimeBudgetMs, IsolatedWorkspace, TimeBudgetError, WorkerCrashError } from './isolated-workspace.ts';
import { packageFile } from '../package-files.ts';

export const defaultStaticDir = packageFile('web', 'dist');

export interface ServeOptions {
  /** The model served at start. */
  model: { bytes: Uint8Array; settings: ModelSettings };
  /** Sample image files offered by GET /api/samples. */
  samples?: readonly string[];
  host?: string;
  /** 0: any free port (default 8080). */
  port?: number;
  /** The built web app (default web/dist of this package). */
  staticDir?: string;
  /** Body size limits in bytes. */
  limits?: { model?: number; image?: number; json?: number };
  /** Time budget of one model evaluation in ms (default 120 s): past it the run is stopped (HTTP 503). */
  timeBudgetMs?: number;
  /** Socket timeouts in ms: all headers received (default 20 s), the whole request (default 10 min). */
  timeouts?: { headers?: number; request?: number };
  /** More host names the server answers to (besides localhost, 127.0.0.1, [::1] and the bound host). */
  allowedHosts?: readonly string[];
  log?: (line: string) => void;
}

export interface ExplorerServer {
  url: string;
  server: Server;
  workspace: IsolatedWorkspace;
  queue: JobQueue;
  close(): Promise<void>;
}

export const defaultLimits = { model: 1024 ** 3, image: 20 * 1024 ** 2, json: 1024 ** 2 };

/** An HTTP error with a message for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The app's own scripts, styles (inline style attributes too), images from the API and data: URLs; no framing. */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, body: string | Uint8Array, type: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

const sendJson = (res: ServerResponse, value: unknown, status = 200) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');

/** The request body, at most `limit` bytes (413 beyond; the rest is drained, the connection closed). */
function readBody(req: IncomingMessage, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new HttpError(413, `${what} is larger than the limit of ${formatBytes(limit)}`);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge()) : resolvePromise(new Uint8Array(Buffer.concat(chunks)))));
    req.on('error', reject);
  });
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(2)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(2)} KB`;
  return `${n} bytes`;
}

// ---- request validation -------------------------------------------------------------

type Json = Record<string, unknown>;

async function readJson(req: IncomingMessage, limit: number): Promise<Json> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new HttpError(415, `the body must be sent with content-type application/json, got ${type ? `'${type}'` : 'none'}`);
  }
  const text = new TextDecoder().decode(await readBody(req, limit, 'the JSON body'));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'the body must be a JSON object');
  return value as Json;
}

function str(body: Json, key: string): string;
function str(body: Json, key: string, optional: true): string | undefined;
function str(body: Json, key: string, optional = false): string | undefined {
  const v = body[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') throw new HttpError(400, `'${key}' must be a non-empty string${v === undefined ? ' (missing)' : `, got ${JSON.stringify(v)}`}`);
  return v;
}

function num(body: Json, key: string, min: number, max: number, integer: boolean): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new HttpError(400, `'${key}' must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) throw new HttpError(400, `'${key}' must be in [${min}, ${max}], got ${v}`);
  return v;
}

function layerRef(body: Json): string | number | undefined {
  const v = body['layer'];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new HttpError(400, `'layer' must be a layer name or a non-negative index, got ${JSON.stringify(v)}`);
}

function colormap(body: Json): ColormapName {
  const v = body['colormap'] ?? 'jet';
  if (typeof v !== 'string' || !(colormapNames as readonly string[]).includes(v)) {
    throw new HttpError(400, `'colormap' must be one of ${colormapNames.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as ColormapName;
}

function target(body: Json): number | 'auto' | undefined {
  const v = body['target'];
  if (v === undefined || v === 'auto') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new HttpError(400, `'target' must be 'auto' or a class index (an integer >= 0), got ${JSON.stringify(v)}`);
}

/** Model settings from the query string of POST /api/model. */
function modelSettings(query: URLSearchParams): ModelSettings {
  const name = basename(query.get('name') ?? 'uploaded.onnx') || 'uploaded.onnx';
  const settings: ModelSettings = { name };
  const preset = query.get('preset');
  if (preset !== null) {
    if (!isPresetName(preset)) throw new HttpError(400, `unknown preset '${preset}'`);
    settings.preset = preset;
  }
  const resize = query.get('resize');
  if (resize !== null) {
    if (!(resizeModes as readonly string[]).includes(resize)) throw new HttpError(400, `'resize' must be one of ${resizeModes.join(', ')}, got '${resize}'`);
    settings.resize = resize as ResizeMode;
  }
  const size = query.get('size');
  if (size !== null) {
    const parts = size.split(',').map(Number);
    const [h, w = h] = parts;
    if (parts.length > 2 || !Number.isInteger(h) || !Number.isInteger(w) || h! < 1 || w! < 1 || h! > 8192 || w! > 8192) throw new HttpError(400, `'size' must be H or H,W (positive integers), got '${size}'`);
    settings.size = { height: h!, width: w! };
  }
  return settings;
}

/** A path segment of the URL, percent-decoded (400 when the encoding is malformed). */
function decodeSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in '${text}': encode the name with encodeURIComponent`);
  }
}

/** The request target as a URL; 400 for anything but an origin-form path ('/...'). */
function requestUrl(raw: string | undefined): URL {
  const target = raw ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, `malformed request target '${target.slice(0, 100)}': expected a path starting with one '/'`);
  try {
    // Prefixed, never resolved against: '//host:port' stays a path, not an authority.
    return new URL(`http://localhost${target}`);
  } catch {
    throw new HttpError(400, `malformed request target '${target.slice(0, 100)}'`);
  }
}

/** The host name of a Host header or an Origin's host part ('[::1]:8080' -> '[::1]'); undefined when malformed. */
export function hostName(hostAndPort: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/.exec(hostAndPort.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** Names this server answers to: loopback names, the bound host, and, when bound to every interface, this machine's addresses. */
function allowedHostNames(host: string, extra: readonly string[]): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', ...extra.map((h) => h.toLowerCase())]);
  const bracket = (a: string) => (a.includes(':') ? `[${a}]` : a).toLowerCase();
  names.add(bracket(host));
  if (host === '0.0.0.0' || host === '::') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(bracket(a.address));
  }
  return names;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// ---- the server -----------------------------------------------------------------------

export async function startServer(options: ServeOptions): Promise<ExplorerServer> {
  const limits = { ...defaultLimits, ...options.limits };
  const staticRoot = resolve(options.staticDir ?? defaultStaticDir);
  const log = options.log ?? (() => {});
  const workspace = new IsolatedWorkspace(options.timeBudgetMs ?? defaultTimeBudgetMs);
  const queue = new JobQueue();
  const host = options.host ?? '127.0.0.1';
  const allowedHosts = allowedHostNames(host, options.allowedHosts ?? []);
  try {
    await workspace.loadModel(options.model.bytes, options.model.settings);
  } catch (e) {
    await workspace.release();
    throw e;
  }

  // Samples: a fixed list made at start; requests name an entry of it, never a path.
  const samples = new Map<string, SampleEntry>();
  for (const path of options.samples ?? []) {
    if (!imageExtensions.includes(extname(path).toLowerCase())) continue;
    const name = basename(path, extname(path));
    if (samples.has(name)) continue;
    const entry = await workspace.addImage(new Uint8Array(await readFile(path)), name, true);
    samples.set(name, { name, id: entry.id });
  }

  const methodList: MethodEntry[] = methodEntries();

  /**
   * Run heavy work through the queue; dropped when the client disconnects while it waits,
   * and told through `signal` when it disconnects while it runs (the explorer aborts its
   * previous request when the user asks for another: an explain then stops between runs).
   */
  function queued<T>(req: IncomingMessage, res: ServerResponse, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) abort.abort();
    };
    res.on('close', onClose);
    void req;
    return queue.run(() => job(abort.signal), abort.signal);
  }

  /** The explanation a request body names (explain, curves), checked in field order; `more` reads the endpoint's own fields. */
  function explainArgs<T extends object>(body: Record<string, unknown>, more: (body: Record<string, unknown>) => T): ExplainArgs & T {
    const request = { image: str(body, 'image'), method: str(body, 'method'), ...more(body) };
    const layer = layerRef(body);
    const t = target(body);
    if (!methods.some((m) => m.id === request.method)) throw new HttpError(400, `unknown method '${request.method}': GET /api/methods lists them`);
    const options = requestOptions(request.method, body['options']);
    return { ...request, ...(layer !== undefined ? { layer } : {}), ...(t !== undefined ? { target: t } : {}), ...(options ? { options } : {}) };
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const route = `${method} ${path}`;
    const image = /^\/api\/images\/([A-Za-z0-9_.-]+)$/.exec(path);
    const sample = /^\/api\/samples\/([^/]+)$/.exec(path);

    if (route === 'GET /api/methods') return sendJson(res, methodList);
    if (route === 'GET /api/model') return sendJson(res, workspace.current);
    if (route === 'GET /api/status') return sendJson(res, { model: workspace.current?.name ?? null, queue: queue.status, progress: workspace.progress ?? null } satisfies StatusResponse);
    if (route === 'POST /api/model') {
      const settings = modelSettings(url.searchParams);
      const bytes = await readBody(req, limits.model, 'the model');
      return sendJson(res, await queued(req, res, () => workspace.loadModel(bytes, settings)));
    }
    if (route === 'PUT /api/model/labels') {
      const body = await readJson(req, limits.json);
      const labels = body['labels'];
      if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new HttpError(400, "'labels' must be an array of strings");
      return sendJson(res, await workspace.setLabels(labels as string[]));
    }
    if (route === 'GET /api/samples') return sendJson(res, [...samples.values()]);
    if (sample && method === 'GET') {
      const name = decodeSegment(sample[1]!);
      const entry = samples.get(name);
      if (!entry) throw new HttpError(404, `unknown sample '${name}'; GET /api/samples lists them`);
      return send(res, 200, await workspace.imagePng(entry.id), 'image/png');
    }
    if (route === 'POST /api/images') {
      const bytes = await readBody(req, limits.image, 'the image');
      const name = basename(url.searchParams.get('name') ?? 'upload') || 'upload';
      return sendJson(res, await workspace.addImage(bytes, name));
    }
    if (image && method === 'GET') return send(res, 200, await workspace.imagePng(image[1]!), 'image/png');
    if (route === 'POST /api/predict') {
      const body = await readJson(req, limits.json);
      const id = str(body, 'image');
      const k = num(body, 'k', 1, 1000, true) ?? 5;
      return sendJson(res, await queued(req, res, () => workspace.predict(id, k)));
    }
    if (route === 'POST /api/explain') {
      const request = explainArgs(await readJson(req, limits.json), (body) => ({ colormap: colormap(body), alpha: num(body, 'alpha', 0, 1, false) ?? 0.5 }));
      return sendJson(res, await queued(req, res, (signal) => workspace.explain(request, signal)));
    }
    if (route === 'POST /api/curves') {
      const request = explainArgs(await readJson(req, limits.json), () => ({}));
      return sendJson(res, await queued(req, res, (signal) => workspace.curves(request, signal)));
    }
    if (route === 'POST /api/activations') {
      const body = await readJson(req, limits.json);
      const id = str(body, 'image');
      const layer = layerRef(body);
      if (layer === undefined) throw new HttpError(400, "'layer' is missing: give a layer name or index");
      const limit = num(body, 'limit', 1, 1024, true) ?? 64;
      return sendJson(res, await queued(req, res, () => workspace.activations(id, layer, limit)));
    }
    if (route === 'GET /api/graph') return send(res, 200, await workspace.graph(), 'image/svg+xml');
    if (route === 'GET /api/filters') {
      const layer = url.searchParams.get('layer');
      if (!layer) throw new HttpError(400, "the query parameter 'layer' is missing (a conv layer's node name; GET /api/model lists them as filterLayers)");
      return send(res, 200, await workspace.filters(layer), 'image/png');
    }
    const known = ['/api/methods', '/api/model', '/api/status', '/api/samples', '/api/images', '/api/predict', '/api/explain', '/api/activations', '/api/graph', '/api/filters', '/api/model/labels'];
    if (known.includes(path)) throw new HttpError(405, `${method} is not supported on ${path} (see API.md)`);
    throw new HttpError(404, `no API endpoint ${method} ${path} (see API.md)`);
  }

  async function staticFile(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not supported on ${url.pathname}`);
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      throw new HttpError(400, 'malformed URL');
    }
    if (rel.includes('\0')) throw new HttpError(400, 'malformed URL');
    const file = resolve(staticRoot, `.${normalize(`/${rel}`)}`);
    if (file !== staticRoot && !file.startsWith(staticRoot.endsWith(sep) ? staticRoot : staticRoot + sep)) throw new HttpError(404, 'not found');
    const isFile = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() ?? false;
    let target = file;
    if (!(await isFile(target))) {
      // The app has one page: paths without an extension are its routes.
      if (extname(rel) !== '') throw new HttpError(404, `not found: ${url.pathname}`);
      target = join(staticRoot, 'index.html');
      if (!(await isFile(target))) {
        throw new HttpError(503, `the web app is not built (${target} is missing): run \`npm run build:web\` in the convlens folder`);
      }
    }
    const body = await readFile(target);
    send(res, 200, req.method === 'HEAD' ? new Uint8Array() : body, CONTENT_TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream');
  }

  /** Who may ask: a Host naming this server (DNS rebinding), and for changes no other Origin (CSRF). */
  function checkCaller(req: IncomingMessage): void {
    const hostHeader = req.headers.host;
    const name = hostHeader === undefined ? undefined : hostName(hostHeader);
    if (name === undefined || !allowedHosts.has(name)) {
      throw new HttpError(hostHeader === undefined ? 400 : 403, `the Host header ${hostHeader === undefined ? 'is missing' : `'${hostHeader.slice(0, 100)}' is not this server`}: open the explorer at http://localhost:<port>/ (or start it with --host NAME for another name)`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && STATE_CHANGING.has(req.method ?? '')) {
      const m = /^https?:\/\/([^/]+)$/.exec(origin);
      const originHost = m ? hostName(m[1]!) : undefined;
      if (originHost === undefined || !allowedHosts.has(originHost)) throw new HttpError(403, `requests from origin '${origin.slice(0, 100)}' are refused: use the explorer's own page`);
    }
  }

  function fail(req: IncomingMessage, res: ServerResponse, path: string, e: unknown): void {
    if (e instanceof QueueAbortError || e instanceof CancelledError) return void res.destroy();
    const status = e instanceof HttpError ? e.status : e instanceof NotFoundError ? 404 : e instanceof ConvlensError ? 400 : e instanceof TimeBudgetError ? 503 : 500;
    const message = status === 500 && !(e instanceof WorkerCrashError) ? `internal error: ${(e as Error)?.message ?? String(e)}` : (e as Error).message;
    if (status === 500) log(`${req.method} ${path}: ${(e as Error)?.stack ?? String(e)}`);
    // After an error the rest of a request body may be unread: close rather than reuse the connection.
    const close = status === 413 || status === 415 || !req.complete;
    send(res, status, JSON.stringify({ error: message }), 'application/json; charset=utf-8', close ? { connection: 'close' } : {});
    if (close) req.resume();
  }

  const server = createServer({ connectionsCheckingInterval: Math.min(30_000, Math.max(100, (options.timeouts?.headers ?? 20_000) / 4)) }, (req, res) => {
    const started = performance.now();
    let path = (req.url ?? '/').slice(0, 200);
    let handle: Promise<void>;
    try {
      const url = requestUrl(req.url);
      path = url.pathname;
      checkCaller(req);
      handle = url.pathname.startsWith('/api/') ? api(req, res, url) : staticFile(req, res, url);
    } catch (e) {
      handle = Promise.reject(e);
    }
    handle
      .catch((e: unknown) => fail(req, res, path, e))
      .catch((e: unknown) => log(`${req.method} ${path}: ${(e as Error)?.stack ?? String(e)}`))
      .finally(() => {
        if (path.startsWith('/api/')) log(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - started)} ms`);
      });
  });
  // Slow clients (slowloris) are cut off; a whole request may take long (large model uploads).
  server.headersTimeout = options.timeouts?.headers ?? 20_000;
  server.requestTimeout = options.timeouts?.request ?? 600_000;
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(options.port ?? 8080, host, () => ok());
    });
  } catch (e) {
    await workspace.release();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConvlensError(`port ${options.port ?? 8080} on ${host} is in use: stop the other server or choose another port (--port N, or --port 0 for any free port)`);
    if (code === 'EACCES') throw new ConvlensError(`no permission to listen on port ${options.port ?? 8080}: choose a port above 1023 (--port N)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConvlensError(`cannot listen on '${host}': not an address of this machine (--host 127.0.0.1 for this machine only)`);
    throw e;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    server,
    workspace,
    queue,
    async close() {
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await workspace.release();
    },
  };
}
