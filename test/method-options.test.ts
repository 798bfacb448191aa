/**
 * The option schema drives validation (library and web request), the CLI flags of
 * `convlens explain` (with defaults in --help) and the README table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { methods, requestOptions } from '../src/methods/registry.ts';
import { closest, defaultsOf, flagOf, validateOptions } from '../src/methods/options.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { OptionError } from '../src/errors.ts';
import { registerExplain, methodOptions } from '../src/cli/commands/explain.ts';
import { methodFlags } from '../src/cli/method-flags.ts';
import { zoo } from './zoo/models.ts';

function explainCommand(): Command {
  const program = new Command('convlens');
  registerExplain(program);
  return program.commands.find((c) => c.name() === 'explain')!;
}

test('every registry option is an explain flag whose help shows each default; a shared flag appears once', () => {
  const command = explainCommand();
  const help = command.helpInformation().replace(/\s+/g, ' ');
  const seen = new Set<string>();
  for (const m of methods) {
    for (const spec of m.options) {
      const flag = flagOf(spec);
      const long = spec.type === 'boolean' && spec.default === true ? `--no-${flag}` : `--${flag}`;
      const matching = command.options.filter((o) => o.long === long);
      assert.equal(matching.length, 1, `${m.id}.${spec.name}: one ${long}`);
      const description = matching[0]!.description.replace(/\s+/g, ' ');
      assert.ok(help.includes(long), `${long} in --help`);
      assert.ok(description.includes(spec.default === null ? 'unset' : String(spec.default)), `${long} shows ${m.id}'s default ${String(spec.default)}: ${description}`);
      assert.ok(description.includes(m.id) || description.includes('every method') || description.includes('the others'), `${long} names ${m.id}`);
      seen.add(long);
    }
  }
  assert.equal(methodFlags().length, seen.size);
});

test('validation: unknown keys name the valid options (and the likely one), ranges and types are checked', () => {
  const ig = methods.find((m) => m.id === 'integrated-gradients')!;
  assert.throws(() => validateOptions('integrated-gradients', ig.options, { step: 8 }), (e: Error) => {
    assert.ok(e instanceof OptionError);
    assert.match(e.message, /integrated-gradients has no option 'step'; did you mean 'steps'\? \(integrated-gradients options: steps, baseline/);
    return true;
  });
  assert.throws(() => validateOptions('integrated-gradients', ig.options, { steps: 1 }), /option 'steps' is 1, out of range: expected integer >= 2/);
  assert.throws(() => validateOptions('integrated-gradients', ig.options, { steps: 2.5 }), /'steps' is 2.5: expected integer/);
  assert.throws(() => validateOptions('integrated-gradients', ig.options, { baseline: 'black' }), /'baseline' is "black": expected number or zeros or blur/);
  const values = validateOptions('integrated-gradients', ig.options, { steps: 8, baseline: 'blur', target: 3, seed: 1 });
  assert.deepEqual(values, { ...defaultsOf(ig.options), steps: 8, baseline: 'blur' });
  const rise = methods.find((m) => m.id === 'rise')!;
  assert.throws(() => validateOptions('rise', rise.options, { keep: 0 }), /'keep' is 0, out of range: expected number > 0, <= 1/);
  assert.equal(closest('windw', ['window', 'stride']), 'window');
  assert.equal(closest('banana', ['window', 'stride']), undefined);
  // Web requests: the same checks, and only an object is accepted.
  assert.throws(() => requestOptions('occlusion', { windows: 4 }), /occlusion has no option 'windows'; did you mean 'window'\?/);
  assert.throws(() => requestOptions('occlusion', [4]), /'options' must be an object/);
  assert.deepEqual(requestOptions('occlusion', { window: 4 }), { window: 4 });
});

test('the library rejects a misspelled option before any work, naming the valid ones', async () => {
  const entry = zoo['tiny-vgg']!;
  await using ex = await Explainer.create(entry.build());
  const x = { data: new Float32Array(3 * 32 * 32).fill(0.5), dims: entry.inputShape(1) };
  await assert.rejects(ex.explain(x, 'occlusion', { windw: 4 }), /occlusion has no option 'windw'; did you mean 'window'\? \(occlusion options: window, stride, baseline/);
  await assert.rejects(ex.explain(x, 'grad-cam', { steps: 4 }), /grad-cam has no option 'steps'/);
  await assert.rejects(ex.explain(x, 'score-cam', { weighting: 'mean' }), /'weighting' is "mean": expected/);
});

test('CLI: flags parse by type, a flag no chosen method takes is a usage error', async () => {
  const command = explainCommand();
  command.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const parse = (...args: string[]) => {
    command.parseOptions(args);
    return command.opts();
  };
  const flags = parse('-m', 'occlusion,grad-cam', '--window', '4', '--baseline', 'blur');
  const options = methodOptions(flags as Parameters<typeof methodOptions>[0]);
  assert.equal(options['window'], 4);
  assert.equal(options['baseline'], 'blur');
  assert.throws(() => methodOptions({ ...(flags as Parameters<typeof methodOptions>[0]), baseline: undefined, method: ['grad-cam'] }), /--window is an option of occlusion, occlusion-probability, not of grad-cam/);
  assert.throws(() => parse('--steps', 'many'), /--steps 'many' is not valid: expected integer >= 2/);
});

test('the README table lists every option with its default', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const m of methods) for (const o of m.options) assert.ok(readme.includes(`\`${o.name}\` = ${o.default === null ? 'unset' : String(o.default)}`), `${m.id}.${o.name}`);
});
