/**
 * A minimal static file server for a built site (`convlens site --serve`, and the browser
 * test): GET/HEAD of files inside one folder, with the COOP/COEP headers that make the page
 * cross-origin isolated, so onnxruntime-web may use threads (SharedArrayBuffer). Any other
 * file server works too, single-threaded when it sends no such headers.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { CONTENT_TYPES } from '../content-types.ts';

export const isolationHeaders = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The file a URL path names inside `root` (index.html for folders), or undefined. */
function fileFor(root: string, urlPath: string): { path: string; size: number } | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  let path = resolve(join(root, decoded));
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  try {
    let s = statSync(path);
    if (s.isDirectory()) {
      path = join(path, 'index.html');
      s = statSync(path);
    }
    return s.isFile() ? { path, size: s.size } : undefined;
  } catch {
    return undefined;
  }
}

export function serveStatic(folder: string, options: { host?: string; port?: number } = {}): Promise<StaticServer> {
  const root = resolve(folder);
  const server = createServer((req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? fileFor(root, new URL(req.url ?? '/', 'http://localhost').pathname) : undefined;
    if (!file) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream', 'content-length': file.size, 'cache-control': 'no-cache', ...isolationHeaders });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file.path).pipe(res);
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as { port: number };
      resolvePromise({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
        server,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
