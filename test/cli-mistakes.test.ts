/**
 * CLI polish (issue 13): the user mistakes of the issue end in exit 1 and exactly one line
 * 'convlens: <problem and fix>' on stderr (no stack trace, never 'internal error'), with a
 * "did you mean" for misspelled methods, layers, presets and other choices; -o follows one
 * rule (a folder where a command writes several files, a file where it writes one); every
 * command's --json is parseable with records; every --help states defaults, once.
 * (test/bad-input.test.ts holds the broken-model/image/tensor table; this one the list.)
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
const bundled = fileURLToPath(new URL('../models/fashion-mnist/', import.meta.url));
const model = join(bundled, 'model.onnx');
const sample = join(bundled, 'samples', '01-trouser.png');
const dir = mkdtempSync(join(tmpdir(), 'convlens-mistakes-'));
const at = (name: string) => join(dir, name);
writeFileSync(at('a-file'), 'not a folder');
mkdirSync(at('a-folder'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function convlens(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CONVLENS_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run every case, `width` processes at a time (each is a Node start, about a second). */
async function all<T>(cases: T[], run: (c: T) => Promise<string | undefined>, width = 4): Promise<string[]> {
  const failures: string[] = [];
  const queue = [...cases];
  await Promise.all(Array.from({ length: width }, async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const failure = await run(c);
      if (failure) failures.push(failure);
    }
  }));
  return failures;
}

const explain = (...rest: string[]) => ['explain', model, sample, '-o', at('out-explain'), ...rest];

/** [the mistake, CLI args, what the one line must say]. */
const mistakes: [string, string[] | (() => Promise<string[]>), RegExp][] = [
  ['--alpha 2', explain('--alpha', '2'), /^convlens: --alpha '2' is not a number in \[0, 1\]$/],
  ['a misspelled command', ['explian', model], /^convlens: unknown command 'explian'; did you mean explain\? \(run with --help for usage\)$/],
  ['a misspelled option', explain('--methd', 'grad-cam'), /^convlens: unknown option '--methd'; did you mean --method\?/],
  ['-m gradcam', explain('-m', 'gradcam'), /unknown method 'gradcam'; did you mean 'grad-cam'\?/],
  ['demo -m gradcam', ['demo', '-m', 'gradcam', '-o', at('out-demo')], /unknown method 'gradcam'; did you mean 'grad-cam'\?/],
  ['evaluate --metrics delition', ['evaluate', model, sample, '--metrics', 'delition', '-o', at('out-eval')], /unknown metric 'delition'; did you mean 'deletion'\?/],
  ['-l features.18 (part of a layer name)', explain('-l', 'features.18'), /no layer 'features\.18' \(did you mean '\/features\/features\.18\/Relu_output_0'\?\)/],
  ['-l with a typo', explain('-l', '/features/features.18/Relu_outptu_0'), /did you mean '\/features\/features\.18\/Relu_output_0'\?/],
  ['filters -l typo', ['filters', model, '-l', '/features/features.0/Cnv', '-o', at('out-filters')], /did you mean '\/features\/features\.0\/Conv'\?/],
  ['-p imagnet', explain('-p', 'imagnet'), /--preset 'imagnet' is not valid; did you mean 'imagenet'\?/],
  ['--colormap virdis', explain('--colormap', 'virdis'), /--colormap 'virdis' is not valid; did you mean 'viridis'\?/],
  ['features --normalize per-mapp', ['features', model, sample, '--normalize', 'per-mapp'], /did you mean 'per-map'\?/],
  // -o: a folder where several files are written, a file where one is.
  ['explain -o an existing file', ['explain', model, sample, '-o', at('a-file')], /a-file' is a file, not a folder.*choose another path with -o/],
  ['features -o an existing file', ['features', model, sample, '-o', at('a-file')], /a-file' is a file, not a folder/],
  ['filters -o an existing file', ['filters', model, '-o', at('a-file')], /a-file' is a file, not a folder/],
  ['graph -o a folder', ['graph', model, '-o', at('a-folder')], /-o '.*a-folder' is a folder, but this command writes one file: give a file name, e.g. -o .*a-folder\/out\.svg/],
  ['graph -o .txt', ['graph', model, '-o', at('graph.txt')], /-o '.*graph\.txt' does not end in \.svg or \.png: name the file e\.g\. -o graph\.svg/],
  ['convert -o .txt', ['convert', model, '-o', at('model.txt')], /does not end in \.onnx/],
  ['maximize -o a folder', ['maximize', model, '--class', '1', '-o', at('a-folder')], /is a folder, but this command writes one file/],
  ['a file that is not ONNX', ['layers', at('a-file')], /not a readable ONNX file.*convlens convert model\.json -o model\.onnx/],
  // serve on a port that is taken
  ['serve on a taken port', async () => ['serve', '--port', String(await takenPort())], /is in use: stop the other server or choose another port \(--port N/],
];

/** A port this process listens on (kept open until the test ends). */
const servers: ReturnType<typeof createServer>[] = [];
async function takenPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}
after(() => servers.forEach((s) => s.close()));

test(`${mistakes.length} user mistakes: exit 1, one line 'convlens: ...' naming the fix, no stack trace`, { timeout: 300_000 }, async () => {
  const failures = await all(mistakes, async ([name, args, pattern]) => {
    const { code, stderr } = await convlens(typeof args === 'function' ? await args() : args);
    const lines = stderr.trimEnd().split('\n');
    const ok = code === 1 && lines.length === 1 && lines[0]!.startsWith('convlens: ') && pattern.test(lines[0]!) && !/internal error|\n\s+at /.test(stderr);
    return ok ? undefined : `${name}: exit ${code}, stderr ${JSON.stringify(stderr.slice(0, 400))}`;
  });
  assert.deepEqual(failures, []);
});

test('--json: every command prints one parseable JSON document; explain has one record per written file', { timeout: 300_000 }, async () => {
  const out = at('json');
  const runs: [string, string[], (v: unknown) => void][] = [
    ['explain', ['explain', model, sample, '-m', 'grad-cam,saliency', '--raw', '-o', join(out, 'explain')], (v) => {
      const files = (v as { files: { input: string; kind: string; method?: string; class?: number; label?: string; layer?: string; scale?: { min: number; max: number }; path: string }[] }).files;
      // The input picture, then per method its picture and its .npy.
      assert.deepEqual(files.map((f) => `${f.kind}:${f.method ?? ''}`), ['input:', 'picture:grad-cam', 'raw:grad-cam', 'picture:saliency', 'raw:saliency']);
      for (const f of files) {
        assert.equal(f.input, '01-trouser');
        assert.ok(f.path.startsWith(join(out, 'explain')) && f.path.endsWith(f.kind === 'raw' ? '.npy' : '.png'), f.path);
      }
      const gradCam = files[1]!;
      assert.equal(gradCam.class, 1); // the bundled model calls the trouser a trouser
      assert.equal(gradCam.label, 'Trouser');
      assert.equal(gradCam.layer, '/features/features.18/Relu_output_0');
      assert.ok(gradCam.scale && gradCam.scale.max > gradCam.scale.min);
      assert.equal(files[3]!.layer, undefined);
    }],
    ['graph', ['graph', model, '-o', join(out, 'g.svg')], (v) => {
      const o = (v as { outputs: { kind: string; format: string; boxes: number; path: string }[] }).outputs[0]!;
      assert.equal(o.format, 'svg');
      assert.ok(o.boxes > 3 && o.path === join(out, 'g.svg'));
    }],
    ['maximize', ['maximize', model, '--class', '1', '--steps', '2', '-p', 'unit', '-o', join(out, 'm.png')], (v) => {
      const o = (v as { outputs: { objectives: string[]; steps: number; objective: { first: number; last: number }; path: string }[] }).outputs[0]!;
      assert.deepEqual(o.objectives, ['class 1']);
      assert.equal(o.steps, 2);
      assert.ok(Number.isFinite(o.objective.first) && Number.isFinite(o.objective.last));
    }],
    ['compile', ['compile', model, '-o', join(out, 'x.onnx')], (v) => {
      const o = (v as { outputs: { method: string; inputShape: number[]; path: string }[] }).outputs[0]!;
      assert.equal(o.method, 'grad-cam');
      assert.deepEqual(o.inputShape, [1, 1, 28, 28]);
    }],
    ['convert', ['convert', model, '-o', join(out, 'copy.onnx')], (v) => assert.deepEqual((v as { files: string[] }).files, [join(out, 'copy.onnx')])],
    ['features', ['features', model, sample, '-l', '9', '--top', '4', '-o', join(out, 'features')], (v) => {
      const o = (v as { outputs: { input: string; layer: string; channels: number[]; path: string }[] }).outputs;
      assert.equal(o.length, 1);
      assert.equal(o[0]!.layer, '/features/features.13/Conv_output_0');
      assert.equal(o[0]!.channels.length, 4);
    }],
    ['filters', ['filters', model, '-l', '0', '-o', join(out, 'filters')], (v) => {
      const o = (v as { outputs: { layer: string; mode: string; kernel: number[]; tiles: number }[] }).outputs[0]!;
      assert.deepEqual([o.layer, o.mode, o.kernel, o.tiles], ['/features/features.0/Conv', 'gray', [3, 3], 16]);
    }],
    ['predict', ['predict', model, sample], (v) => assert.equal((v as { top: { class: number }[] }[])[0]!.top[0]!.class, 1)],
    ['layers', ['layers', model], (v) => assert.equal((v as unknown[]).length, 13)],
    ['summary', ['summary', model], (v) => assert.ok((v as { totals: { parameters: number } }).totals.parameters > 0)],
    ['annotate', ['annotate', model], (v) => assert.equal((v as { preset: string }).preset, 'unit')],
  ];
  const failures = await all(runs, async ([name, args, check]) => {
    const r = await convlens(['--json', ...args]);
    if (r.code !== 0) return `${name}: exit ${r.code}: ${r.stderr.slice(0, 300)}`;
    try {
      check(JSON.parse(r.stdout));
    } catch (e) {
      return `${name}: ${(e as Error).message.slice(0, 400)}`;
    }
    return undefined;
  });
  assert.deepEqual(failures, []);
});

test('every --help states the default of each option that takes a value, once', { timeout: 300_000 }, async () => {
  // The commands with the most options (predict, layers, doctor and summary share withInputOptions/--size).
  const commands = ['explain', 'features', 'filters', 'maximize', 'dream', 'evaluate', 'compile', 'demo', 'annotate'];
  // Flags that select what to explain on other outputs: no default to state (unset = the class).
  const noDefault = new Set(['--region', '--mask', '--box', '--similar-to']);
  const failures = await all(commands, async (c) => {
    const { code, stdout } = await convlens([c, '--help']);
    if (code !== 0) return `${c} --help: exit ${code}`;
    const problems: string[] = [];
    const options = stdout.split('\nOptions:\n')[1]?.split(/\n(?= {2}-)/) ?? [];
    for (const o of options) {
      const text = o.replace(/\s+/g, ' ').trim();
      const flag = /--[\w-]+/.exec(text)?.[0] ?? text;
      if (/\(default: ([^)]*)\) \(default: \1\)/.test(text)) problems.push(`${flag} states its default twice`);
      const takesValue = /^(-\w, )?--[\w-]+ [<[]/.test(text);
      if (takesValue && !noDefault.has(flag) && !/default|required/i.test(text)) problems.push(`${flag} states no default`);
    }
    return problems.length ? `${c}: ${problems.join('; ')}` : undefined;
  });
  assert.deepEqual(failures, []);
});
