/**
 * The published package as a user gets it: `npm pack` of a fresh build, installed (cache first)
 * from the tarball into an empty project, imported from plain JS, type-checked from
 * TypeScript (moduleResolution nodenext) against the shipped .d.ts, and the installed
 * `convlens` bin run (--help, and explain on the bundled model: the values of its --raw
 * output equal the library's on the same image).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convlens-pack-'));
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('npm pack -> install -> import, type-check, bin', { timeout: 300_000 }, () => {
  // The library build and the bundled CLI (what `prepare` runs); the explorer page is built by `npm ci` already.
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  npm(['run', 'build:cli'], root);
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root)) as { filename: string; size: number; files: { path: string }[] }[];
  const { filename, size, files } = packed[0]!;
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes('dist/index.js') && paths.includes('dist/index.d.ts') && paths.includes('dist/bin/main.js'), 'compiled library and bundled CLI');
  assert.ok(paths.includes('models/fashion-mnist/model.onnx'), 'bundled model');
  for (const p of paths) assert.ok(!/^(src|test|bench|scripts|scratch|node_modules)\//.test(p) && !p.endsWith('.ts') || p.endsWith('.d.ts'), `unexpected file in the package: ${p}`);
  assert.ok(size < 5_000_000, `tarball ${size} bytes`);
  // Relative imports of the shipped JavaScript name .js files (TypeScript leaves the .ts of an
  // import() as written inside a function that uses `await using`; no .ts file is shipped).
  for (const p of paths.filter((f) => f.endsWith('.js'))) {
    const found = /(?:\bimport\s*\(|\bfrom)\s*['"](\.{1,2}\/[^'"]+\.ts)['"]/.exec(readFileSync(join(root, p), 'utf8'));
    assert.equal(found?.[1], undefined, `${p} imports ${found?.[1]}, which is not in the package`);
  }

  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename)], app);

  writeFileSync(join(app, 'use.js'), "import { Explainer, methodIds, setOrtBackend } from 'convlens';\nimport { visualize } from 'convlens/optvis';\nconsole.log(JSON.stringify({ explainer: typeof Explainer.create, methods: methodIds.length, ort: typeof setOrtBackend, optvis: typeof visualize }));\n");
  const used = JSON.parse(execFileSync(process.execPath, ['use.js'], { cwd: app, encoding: 'utf8' })) as Record<string, unknown>;
  assert.deepEqual(used, { explainer: 'function', methods: JSON.parse(execFileSync(process.execPath, ['-e', "import('convlens').then(c => console.log(c.methodIds.length))"], { cwd: app, encoding: 'utf8' })), ort: 'function', optvis: 'function' });

  writeFileSync(join(app, 'use.ts'), "import { Explainer, readModelFile, type Explanation } from 'convlens';\nconst model = readModelFile('m.onnx');\nexport async function run(): Promise<Explanation[]> {\n  const e = await Explainer.create(model);\n  return e.explain({ data: new Float32Array(784), dims: [1, 1, 28, 28] }, 'grad-cam', { target: 'auto' });\n}\n// @ts-expect-error: a file name is not a tensor\nexport const bad = (e: Explainer) => e.explain('image.png', 'grad-cam');\n");
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] }, files: ['use.ts'] }));
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: app, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

  const bin = join(app, 'node_modules/.bin/convlens');
  const help = spawnSync(bin, ['--help'], { cwd: app, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /explain/);
  const pkg = join(app, 'node_modules/convlens/models/fashion-mnist');
  const sample = join(pkg, 'samples', readdirSync(join(pkg, 'samples'))[0]!);
  const run = spawnSync(bin, ['explain', join(pkg, 'model.onnx'), sample, '-m', 'grad-cam', '--preset', 'unit', '-o', join(app, 'out')], { cwd: app, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const pngs = readdirSync(join(app, 'out')).filter((f) => f.endsWith('.grad-cam.png'));
  assert.equal(pngs.length, 1);
  assert.ok(statSync(join(app, 'out', pngs[0]!)).size > 100);
  // The demo finds the bundled model from the bundled CLI.
  const demo = spawnSync(bin, ['demo', '-m', 'saliency', '-o', join(app, 'demo')], { cwd: app, encoding: 'utf8' });
  assert.equal(demo.status, 0, demo.stderr);
  assert.equal(readdirSync(join(app, 'demo')).filter((f) => f.endsWith('.saliency.png')).length, readdirSync(join(pkg, 'samples')).length);
  assert.ok(readFileSync(join(app, 'node_modules/convlens/package.json'), 'utf8').includes('"bin"'));
});
