/**
 * Every bad input a careless user or an attacker hands convlens ends in a clear error:
 * the CLI exits 1 with one line 'convlens: <problem and fix>' (no stack trace), the
 * library throws a ConvlensError, the explorer answers 4xx with one-line {error}. One
 * table of cases: broken models, external data pointing elsewhere, lying .npy headers,
 * images too large or not images, bad arguments, malformed HTTP requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ConvlensError } from '../src/errors.ts';
import { serializeModel } from '../src/model/model.ts';
import { encodeNpy } from '../src/runtime/npy.ts';
import { makeAttribute } from '../src/model/attributes.ts';
import { prepareOutDir } from '../src/report/out-dir.ts';
import { startServer, type ExplorerServer } from '../src/web/server.ts';
import { edited, initializer, npyWithHeader, tinyNet } from './bad-input-models.ts';

const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convlens-bad-'));
const at = (name: string) => join(dir, name);
const tiny = tinyNet();
const tinyBytes = serializeModel(tiny);

/** A PNG whose header claims width x height (no pixel data follows: only the header is read). */
function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const idat = chunk('IDAT', deflateSync(Buffer.alloc(64)));
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), idat, chunk('IEND', Buffer.alloc(0))]));
}

/** tinyNet with conv1.weight moved to an external-data entry. */
function external(entries: Record<string, string>): Uint8Array {
  return serializeModel(edited(tiny, (g) => {
    const w = initializer(g, 'conv1.weight');
    delete w.rawData;
    w.dataLocation = 1;
    w.externalData = Object.entries(entries).map(([key, value]) => ({ key, value }));
  }));
}

before(async () => {
  const write = (name: string, bytes: Uint8Array | string) => writeFileSync(at(name), bytes);
  write('tiny.onnx', tinyBytes);
  write('ok.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer());
  // models
  write('empty.onnx', new Uint8Array());
  write('random.onnx', Uint8Array.from({ length: 500 }, (_, i) => (i * 7919) % 251));
  write('truncated.onnx', tinyBytes.subarray(0, Math.floor(tinyBytes.length / 2)));
  write('no-outputs.onnx', serializeModel(edited(tiny, (g) => (g.output = []))));
  write('missing-output.onnx', serializeModel(edited(tiny, (g) => (g.output = [{ ...g.output![0]!, name: 'not_computed' }]))));
  write('no-inputs.onnx', serializeModel(edited(tiny, (g) => (g.input = []))));
  write('negative-dims.onnx', serializeModel(edited(tiny, (g) => (initializer(g, 'conv1.weight').dims = [-4, 1, 3, 3]))));
  write('huge-dims.onnx', serializeModel(edited(tiny, (g) => (initializer(g, 'conv1.weight').dims = [1e6, 1e6, 1e3, 1]))));
  write('negative-constant.onnx', serializeModel(edited(tiny, (g) => {
    g.node.push({ name: 'bad_const', opType: 'Constant', input: [], output: ['bad_const'], attribute: [makeAttribute('value', { dataType: 1, dims: [-2], data: new Float32Array(0) })] });
    g.node.push({ name: 'plus', opType: 'Add', input: [g.output![0]!.name, 'bad_const'], output: ['plus'] });
    g.output = [{ ...g.output![0]!, name: 'plus' }];
  })));
  write('opset5.onnx', serializeModel({ ...tiny, opsetImport: [{ domain: '', version: 5 }] }));
  write('nan-weight.onnx', serializeModel(edited(tiny, (g) => {
    const t = initializer(g, 'conv1.weight');
    const f = new Float32Array(Uint8Array.from(t.rawData!).buffer);
    f[3] = Number.NaN;
    t.rawData = new Uint8Array(f.buffer);
  })));
  mkdirSync(at('ext'));
  writeFileSync(at('ext/w.bin'), new Uint8Array(16));
  execFileSync('mkfifo', [at('ext/fifo.bin')]);
  write('ext/traversal.onnx', external({ location: '../tiny.onnx' }));
  write('ext/absolute.onnx', external({ location: '/etc/hostname' }));
  write('ext/fifo.onnx', external({ location: 'fifo.bin' }));
  write('ext/beyond.onnx', external({ location: 'w.bin', offset: '4096', length: '144' }));
  write('ext/negative.onnx', external({ location: 'w.bin', offset: '-8' }));
  write('ext/missing.onnx', external({ location: 'nothere.bin' }));
  mkdirSync(at('a-folder.onnx'));
  execFileSync('mkfifo', [at('fifo.onnx')]);
  // tensors
  write('bad-magic.npy', 'not numpy at all');
  write('negative.npy', npyWithHeader('1, -1, 8, 8'));
  write('huge.npy', npyWithHeader('100000, 100000, 100000'));
  write('truncated.npy', npyWithHeader('1, 1, 8, 8', '<f4', 100));
  write('int.npy', npyWithHeader('1, 1, 8, 8', '<i4', 256));
  write('fortran.npy', Buffer.from(Buffer.from(npyWithHeader('1, 1, 8, 8', '<f4', 256)).toString('latin1').replace('False', 'True '), 'latin1'));
  write('nan.npy', encodeNpy({ data: new Float32Array(64).fill(0.5).fill(Number.NaN, 10, 12), dims: [1, 1, 8, 8] }));
  write('wrong-shape.npy', encodeNpy({ data: new Float32Array(75), dims: [3, 5, 5] }));
  const lying = npyWithHeader('1, 1, 8, 8', '<f4', 256);
  new DataView(lying.buffer).setUint16(8, 60000, true);
  write('header-beyond.npy', lying);
  // images
  write('empty.png', new Uint8Array());
  write('text.png', 'hello, I am not an image');
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } }).png().toBuffer();
  write('truncated.png', png.subarray(0, 60));
  write('wide.png', await sharp({ create: { width: 310_000, height: 1, channels: 3, background: '#808080' } }).png().toBuffer());
  write('gigapixel.png', pngHeader(40_000, 40_000));
  execFileSync('mkfifo', [at('fifo.png')]);
  mkdirSync(at('no-images'));
  write('no-images/readme.txt', 'nothing here');
  write('labels-missing-dir', '');
  write('existing-file', 'x');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function convlens(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CONVLENS_DEBUG: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** [name, CLI args, pattern the one-line message matches]. */
const explain = (model: string, input = 'ok.png', ...rest: string[]) => ['explain', at(model), at(input), '--preset', 'unit', '-o', at(`out-${model}-${input}`.replace(/[/]/g, '_')), ...rest];
/** Bad inputs: with --strict (by default explain reports an unreadable input and goes on with the others). */
const input = (name: string, ...rest: string[]) => explain('tiny.onnx', name, '--strict', ...rest);
const cliCases: [string, string[], RegExp][] = [
  // models
  ['empty model file', explain('empty.onnx'), /is empty/],
  ['random bytes', explain('random.onnx'), /not (a readable ONNX file|an ONNX model)/],
  ['truncated model', explain('truncated.onnx'), /not a readable ONNX file|truncated/],
  ['graph without outputs', explain('no-outputs.onnx'), /no graph output/],
  ['output naming a missing tensor', explain('missing-output.onnx'), /declares output 'not_computed' that no node computes/],
  ['graph without inputs', explain('no-inputs.onnx'), /no graph input/],
  ['initializer with negative dims', explain('negative-dims.onnx'), /invalid dimension -4/],
  ['initializer with absurd dims', explain('huge-dims.onnx'), /larger than the 2 GB|needs/],
  ['Constant with negative dims', explain('negative-constant.onnx'), /invalid dimension -2|onnxruntime/],
  ['unsupported opset', explain('opset5.onnx'), /opset 5/],
  ['NaN weight', explain('nan-weight.onnx'), /non-finite.*conv1\.weight/],
  ['NaN weight, gradient method', explain('nan-weight.onnx', 'ok.png', '-m', 'saliency'), /non-finite.*conv1\.weight/],
  ['external data outside the folder', explain('ext/traversal.onnx'), /outside the model's folder/],
  ['external data at an absolute path', explain('ext/absolute.onnx'), /outside the model's folder/],
  ['external data is a FIFO', explain('ext/fifo.onnx'), /not a regular file/],
  ['external data offset beyond the file', explain('ext/beyond.onnx'), /has 16 bytes, but the model reads 144 from offset 4096/],
  ['external data negative offset', explain('ext/negative.onnx'), /not byte counts/],
  ['external data file missing', explain('ext/missing.onnx'), /is missing/],
  ['model is a folder', explain('a-folder.onnx'), /is a folder/],
  ['model is a FIFO', explain('fifo.onnx'), /not a regular file/],
  ['model does not exist', explain('nothere.onnx'), /does not exist/],
  // tensors
  ['.npy with bad magic', input('bad-magic.npy'), /bad magic/],
  ['.npy with negative dims', input('negative.npy'), /non-negative integers/],
  ['.npy with absurd dims', input('huge.npy'), /more than the \d+ convlens reads/],
  ['.npy truncated', input('truncated.npy'), /truncated/],
  ['.npy of integers', input('int.npy'), /'<i4'/],
  ['.npy in Fortran order', input('fortran.npy'), /Fortran order/],
  ['.npy with NaN values', input('nan.npy'), /input 0 holds 2 non-finite value/],
  ['.npy of the wrong shape', input('wrong-shape.npy'), /has shape \[3, 5, 5\]/],
  ['.npy header longer than the file', input('header-beyond.npy'), /truncated/],
  // images
  ['empty image', input('empty.png'), /is empty/],
  ['text file named .png', input('text.png'), /not an image|could not be decoded/],
  ['truncated PNG', input('truncated.png'), /could not be decoded|truncated/],
  ['1 x 310000 PNG under center-crop', input('wide.png', '--resize', 'center-crop'), /center-crop would first resize it to \d+x\d+.*--resize stretch/],
  ['40000 x 40000 PNG header', input('gigapixel.png'), /megapixels|more pixels/],
  ['image is a FIFO', input('fifo.png'), /not a regular file/],
  ['folder without images', input('no-images'), /has no image files/],
  // arguments
  ['--alpha 2', input('ok.png', '--alpha', '2'), /--alpha '2' is not a number in \[0, 1\]/],
  ['--colormap foo', input('ok.png', '--colormap', 'foo'), /--colormap 'foo' is not valid \(choices: jet, /],
  ['unknown option', input('ok.png', '--bogus'), /unknown option '--bogus'/],
  ['--batch-size 0', input('ok.png', '--batch-size', '0'), /--batch-size '0' is not an integer >= 1/],
  ['--target foo', input('ok.png', '--target', 'foo'), /class 'foo'/],
  ['unknown method', input('ok.png', '-m', 'nope'), /nope/],
  ['--size abc', ['layers', at('tiny.onnx'), '--size', 'abc'], /--size 'abc'/],
  ['missing labels file', input('ok.png', '--labels', at('nothere.txt')), /does not exist/],
  ['-o an existing file', ['explain', at('tiny.onnx'), at('ok.png'), '--preset', 'unit', '-o', at('existing-file')], /existing-file.*(not a folder|is a file)/],
  ['--time-limit -1', ['--time-limit', '-1', 'doctor', at('tiny.onnx')], /--time-limit '-1'/],
  ['--max-input-elements 0', ['--max-input-elements', '0', 'doctor', at('tiny.onnx')], /--max-input-elements '0'/],
  ['missing arguments', ['explain'], /missing required argument 'model'/],
];

test(`${cliCases.length} bad CLI inputs: exit 1 with one line naming the problem, no stack trace`, { timeout: 600_000 }, async () => {
  const failures: string[] = [];
  // Four at a time: each case is a process start.
  const queue = [...cliCases];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const [name, args, pattern] = c;
      const { code, stderr } = await convlens(args);
      const lines = stderr.trimEnd().split('\n');
      if (code !== 1 || lines.length !== 1 || !lines[0]!.startsWith('convlens: ') || !pattern.test(lines[0]!) || /\n\s+at /.test(stderr)) {
        failures.push(`${name}: exit ${code}, stderr ${JSON.stringify(stderr.slice(0, 400))}`);
      }
    }
  }));
  assert.deepEqual(failures, []);
});

test('library: bad inputs throw ConvlensError with one line', async () => {
  const { parseNpy } = await import('../src/runtime/npy.ts');
  const { readModelFile } = await import('../src/model/file.ts');
  const { loadImageForModel } = await import('../src/input/image-file.ts');
  const cases: [string, () => unknown, RegExp][] = [
    ['output folder under /proc', () => prepareOutDir('/proc/convlens-x/out'), /cannot be made|not writable/],
    ['output folder through a file', () => prepareOutDir(at('existing-file/out')), /is a file/],
    ['.npy version 9', () => parseNpy(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 9, 0, 0, 0)), /version 9/],
    ['model with negative dims', () => readModelFile(at('negative-dims.onnx')), /invalid dimension/],
    ['image with zero target size', () => loadImageForModel(at('ok.png'), { height: 0, width: 8 }), /positive integers/],
  ];
  for (const [name, f, pattern] of cases) {
    await assert.rejects(async () => f(), (e: unknown) => {
      assert.ok(e instanceof ConvlensError, `${name}: ${String(e)}`);
      assert.match(e.message, pattern, name);
      assert.ok(!e.message.includes('\n'), name);
      return true;
    });
  }
});

// ---- HTTP ----------------------------------------------------------------------------

let served: ExplorerServer;
let port = 0;

/** A raw request (node:http keeps malformed targets and any Host header). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const httpCases: [string, () => Promise<{ status: number; body: string }>, number, RegExp][] = [
  ['GET //', () => raw('GET', '//'), 400, /malformed request target/],
  ['GET //x:99999', () => raw('GET', '//x:99999'), 400, /malformed request target/],
  ['GET //[', () => raw('GET', '//['), 400, /malformed request target/],
  ['bad percent-encoding', () => raw('GET', '/api/samples/%E0%A4%A'), 400, /malformed percent-encoding/],
  ['foreign Host header', () => raw('GET', '/api/model', { host: 'evil.example:80' }), 403, /Host header 'evil.example:80' is not this server/],
  ['text/plain JSON (CSRF)', () => raw('POST', '/api/predict', { 'content-type': 'text/plain' }, '{"image":"x"}'), 415, /application\/json/],
  ['foreign Origin on POST', () => raw('POST', '/api/predict', { ...json, origin: 'http://evil.example' }, '{"image":"x"}'), 403, /origin 'http:\/\/evil.example' are refused/],
  ['invalid JSON', () => raw('POST', '/api/predict', json, '{"image":'), 400, /not valid JSON/],
  ['JSON array body', () => raw('POST', '/api/predict', json, '[1]'), 400, /must be a JSON object/],
  ['unknown method', () => raw('POST', '/api/explain', json, '{"image":"x","method":"nope"}'), 400, /unknown method 'nope'/],
  ['unknown image id', () => raw('POST', '/api/predict', json, '{"image":"nope"}'), 404, /unknown image id 'nope'/],
  ['target out of range', () => raw('POST', '/api/explain', json, '{"image":"sample-ok","method":"grad-cam","target":99}'), 400, /target 99 is out of range/],
  ['not an image upload', () => raw('POST', '/api/images?name=x', {}, 'hello'), 400, /could not be decoded|not an image/],
  ['garbage model upload', () => raw('POST', '/api/model?name=x.onnx', {}, 'garbage garbage'), 400, /not (a readable ONNX file|an ONNX model)/],
  ['model upload without outputs', () => raw('POST', '/api/model?name=x.onnx', {}, serializeModel(edited(tiny, (g) => (g.output = [])))), 400, /no graph output/],
  ['NaN-weight model upload', () => raw('POST', '/api/model?name=x.onnx', {}, serializeModel(edited(tiny, (g) => {
    const t = initializer(g, 'logits.weight');
    const f = new Float32Array(Uint8Array.from(t.rawData!).buffer);
    f[0] = Infinity;
    t.rawData = new Uint8Array(f.buffer);
  }))), 400, /non-finite.*logits\.weight/],
  ['body over the limit', () => raw('POST', '/api/predict', json, JSON.stringify({ image: 'x'.repeat(5000) })), 413, /larger than the limit/],
  ['wrong HTTP method', () => raw('DELETE', '/api/model'), 405, /not supported/],
  ['unknown endpoint', () => raw('GET', '/api/nope'), 404, /no API endpoint/],
  ['unknown filter layer', () => raw('GET', '/api/filters?layer=nope'), 400, /no 2-D conv kernels/],
];

test(`${httpCases.length} bad HTTP requests: 4xx with a one-line {error}, and the server lives on`, async () => {
  served = await startServer({ model: { bytes: tinyBytes, settings: { name: 'tiny.onnx', preset: 'unit' } }, samples: [at('ok.png')], port: 0, limits: { json: 4096 } });
  port = Number(new URL(served.url).port);
  try {
    const failures: string[] = [];
    for (const [name, send, status, pattern] of httpCases) {
      const res = await send();
      let error = '';
      try {
        error = (JSON.parse(res.body) as { error: string }).error;
      } catch {
        failures.push(`${name}: not JSON: ${res.body.slice(0, 200)}`);
        continue;
      }
      if (res.status !== status || !pattern.test(error) || error.includes('\n')) failures.push(`${name}: ${res.status} ${JSON.stringify(error)}`);
    }
    assert.deepEqual(failures, []);
    const alive = await raw('GET', '/api/status');
    assert.equal(alive.status, 200);
  } finally {
    await served.close();
  }
});
