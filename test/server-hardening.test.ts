/**
 * The explorer server under hostile or unlucky use: DNS-rebinding Hosts and cross-site
 * Origins are refused, every response forbids framing and sniffing, a client that never
 * finishes its headers is cut off, malformed targets never stop the process, and a model
 * that runs for ever (a Loop of 1e9 iterations) is stopped at the time budget while the
 * server keeps answering.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import sharp from 'sharp';
import { serializeModel } from '../src/model/model.ts';
import { startServer, type ExplorerServer } from '../src/web/server.ts';
import { loopNet } from './bad-input-models.ts';

let served: ExplorerServer;
let port = 0;
let png: Uint8Array;

before(async () => {
  png = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer());
  // 20 loop iterations at load (fast); the 1e9 model is uploaded in the budget test.
  served = await startServer({ model: { bytes: serializeModel(loopNet(20)), settings: { name: 'loop.onnx', preset: 'unit' } }, port: 0, timeBudgetMs: 3000, timeouts: { headers: 500 } });
  port = Number(new URL(served.url).port);
});
after(async () => served.close());

function call(method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `localhost:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('Host must name this server; Origin of a state change must be this server', async () => {
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) assert.equal((await call('GET', '/api/status', { host })).status, 200, host);
  for (const host of ['evil.example', `attacker.test:${port}`, '127.0.0.1.evil.example', 'localhost@evil']) assert.equal((await call('GET', '/api/status', { host })).status, 403, host);
  const json = { 'content-type': 'application/json' };
  assert.equal((await call('PUT', '/api/model/labels', { ...json, origin: 'http://evil.example' }, '{"labels":["a","b","c"]}')).status, 403);
  assert.equal((await call('PUT', '/api/model/labels', { ...json, origin: `http://localhost:${port}` }, '{"labels":["a","b","c"]}')).status, 200);
  assert.equal((await call('PUT', '/api/model/labels', { 'content-type': 'text/plain' }, '{"labels":["a","b","c"]}')).status, 415);
});

test('every response carries CSP, no framing, no sniffing', async () => {
  for (const path of ['/api/status', '/api/nope', '/']) {
    const res = await call('GET', path);
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/, path);
    assert.equal(res.headers['x-frame-options'], 'DENY', path);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
  }
});

test('malformed targets get 400 and the server lives on', async () => {
  for (const path of ['//', '//x:99999', '//[', '/api/samples/%E0%A4%A', '/%']) {
    const res = await call('GET', path);
    assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
  }
  assert.equal((await call('GET', '/api/status')).status, 200);
});

test('a client that never finishes its headers is disconnected (slowloris)', async () => {
  const closed = await new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /api/status HTTP/1.1\r\nHost: localhost\r\n'));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve(true));
    setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 10_000);
  });
  assert.ok(closed, 'the half-open request was not cut off');
});

test('a model evaluation past the time budget is stopped; the server answers meanwhile and after', async () => {
  const upload = await call('POST', '/api/images?name=x', {}, png);
  assert.equal(upload.status, 200, upload.body);
  const { id } = JSON.parse(upload.body) as { id: string };
  const startsBefore = served.workspace.starts;
  const json = { 'content-type': 'application/json' };
  // Loading the 1e9-iteration model runs it once: stopped at the budget, the old model stays.
  const slow = call('POST', '/api/model?name=forever.onnx&preset=unit', {}, serializeModel(loopNet(1e9)));
  await new Promise((r) => setTimeout(r, 500));
  const during = await call('GET', '/api/status');
  assert.equal(during.status, 200, 'the server answers while the model runs');
  const stopped = await slow;
  assert.equal(stopped.status, 503, stopped.body);
  assert.match((JSON.parse(stopped.body) as { error: string }).error, /time budget of 3 s/);
  // The worker restarted with the previous model and the uploaded image (same id).
  const predicted = await call('POST', '/api/predict', json, JSON.stringify({ image: id }));
  assert.equal(predicted.status, 200, predicted.body);
  assert.equal(served.workspace.starts, startsBefore + 1);
  assert.equal(served.workspace.current?.name, 'loop.onnx');
});
