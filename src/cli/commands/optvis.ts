/** `convlens maximize` and `convlens dream`: images that a class, channel or neuron "wants". */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { readModelFile } from '../../model/file.ts';
import { GradientEngine } from '../../autodiff/engine.ts';
import type { Objective } from '../../optvis/objectives.ts';
import { detectLayout } from '../../input/layout.ts';
import { tensorToImage } from '../../input/preprocess.ts';
import { presetNames, type Preset } from '../../input/presets.ts';
import type { Tensor } from '../../runtime/session.ts';
import { encodePng } from '../../viz/png.ts';
import { parseInteger, parseLayer, parseNumber, UsageError } from '../args.ts';
import { withInputOptions } from '../input-options.ts';
import { loadModelAndInputs } from '../load.ts';
import { Progress } from '../progress.ts';
import { fileHelp, outFile } from '../out-path.ts';
import { print, printJson, wantsJson } from '../output.ts';
import { inputShape } from './inspect.ts';

// Loaded when the command runs (module-level, as every lazy import of the CLI: see inside.ts).
const optimizeModule = () => import('../../optvis/optimize.ts');
const optvisModules = () =>
  Promise.all([import('../../optvis/objectives.ts'), import('../../optvis/parameterizations.ts'), import('../../optvis/transforms.ts'), import('../../optvis/regularizers.ts'), optimizeModule()]);

/** LAYER:K or LAYER:K:Y:X (the layer may itself contain colons: the numbers are taken from the end). */
function parseUnit(text: string, withPosition: boolean): { layer: string | number; k: number; y?: number; x?: number } {
  const parts = text.split(':');
  const count = withPosition && parts.length >= 4 ? 3 : 1;
  const numbers = parts.slice(-count).map(Number);
  const layer = parts.slice(0, -count).join(':');
  if (!layer || numbers.some((n) => !Number.isInteger(n) || n < 0)) throw new UsageError(`'${text}' is not LAYER:CHANNEL${withPosition ? '[:Y:X]' : ''}`);
  return { layer: parseLayer(layer), k: numbers[0]!, ...(count === 3 ? { y: numbers[1]!, x: numbers[2]! } : {}) };
}

async function saveImage(path: string, image: Tensor, dims: readonly number[], preset: Preset | string): Promise<string> {
  writeFileSync(path, await encodePng(tensorToImage(image, detectLayout(dims), preset)));
  return path;
}

interface MaximizeFlags {
  class?: number[];
  channel?: string[];
  neuron?: string[];
  steps: number;
  lr: number;
  param: 'fourier' | 'pixels';
  transforms: boolean;
  l2: number;
  tv: number;
  seed: number;
  preset: string;
  out: string;
}

export function registerOptvis(program: Command): void {
  const collect = <T>(parse: (v: string) => T) => (v: string, prev: T[] | undefined) => [...(prev ?? []), parse(v)];
  program
    .command('maximize')
    .description('an image that maximizes a class score, a channel or a neuron (gradient ascent; objectives given together are summed)')
    .argument('<model>', 'ONNX model file')
    .addOption(new Option('--class <c>', 'a class (pre-softmax score; repeat to sum) (default: none; give at least one objective)').argParser(collect(parseInteger('--class', 0))))
    .addOption(new Option('--channel <layer:k>', 'mean activation of channel k of a layer (repeat to sum) (default: none)').argParser(collect(String)))
    .addOption(new Option('--neuron <layer:k[:y:x]>', 'one activation (repeat to sum) (default: none; position default: the center)').argParser(collect(String)))
    .addOption(new Option('--steps <n>', 'optimization steps').default(256).argParser(parseInteger('--steps', 1)))
    .addOption(new Option('--lr <rate>', 'Adam learning rate').default(0.05).argParser(parseNumber('--lr', 0)))
    .addOption(new Option('--param <kind>', 'image parameterization').choices(['fourier', 'pixels']).default('fourier'))
    .option('--no-transforms', 'no random jitter/scale/rotate between steps (default: transforms on)')
    .addOption(new Option('--l2 <lambda>', 'L2 penalty on the image').default(0).argParser(parseNumber('--l2', 0)))
    .addOption(new Option('--tv <lambda>', 'total-variation penalty').default(0).argParser(parseNumber('--tv', 0)))
    .addOption(new Option('--seed <n>', 'seed').default(0).argParser(parseInteger('--seed', 0)))
    .addOption(new Option('-p, --preset <name>', 'the model\'s input normalization (to show the image)').choices([...presetNames]).default('imagenet'))
    .option('-o, --out <file>', fileHelp('.png'), 'maximize.png')
    .action(async (modelPath: string, flags: MaximizeFlags, command: Command) => {
      const [{ channel, classLogit, neuron, sum }, { fourier, pixels }, { standardTransforms }, { l2, totalVariation }, { visualize }] = await optvisModules();
      const parts: Objective[] = [
        ...(flags.class ?? []).map((c) => classLogit(c)),
        ...(flags.channel ?? []).map((t) => parseUnit(t, false)).map((u) => channel(u.layer, u.k)),
        ...(flags.neuron ?? []).map((t) => parseUnit(t, true)).map((u) => neuron(u.layer, u.k, u.y, u.x)),
      ];
      if (parts.length === 0) throw new UsageError('give an objective: --class C, --channel LAYER:K or --neuron LAYER:K[:Y:X]');
      const out = outFile(flags.out, ['.png']);
      const dims = inputShape(modelPath);
      const progress = new Progress();
      await using engine = new GradientEngine(readModelFile(modelPath));
      const result = await visualize(engine, {
        objective: parts.length === 1 ? parts[0]! : sum(...parts),
        parameterization: flags.param === 'fourier' ? fourier() : pixels({ init: 'random' }),
        transforms: flags.transforms ? standardTransforms() : [],
        regularizers: [...(flags.l2 > 0 ? [l2(flags.l2)] : []), ...(flags.tv > 0 ? [totalVariation(flags.tv)] : [])],
        steps: flags.steps,
        learningRate: flags.lr,
        seed: flags.seed,
        inputShape: dims,
        onStep: (step, value) => progress.update(`maximize: step ${step + 1}/${flags.steps}, objective ${value.toFixed(4)}`),
      });
      progress.done();
      const path = await saveImage(out, result.image, dims, flags.preset);
      const objective = { first: result.values[0], last: result.values.at(-1) };
      if (wantsJson(command)) printJson({ files: [path], outputs: [{ kind: 'image', objectives: [...(flags.class ?? []).map((c) => `class ${c}`), ...(flags.channel ?? []).map((c) => `channel ${c}`), ...(flags.neuron ?? []).map((n) => `neuron ${n}`)], steps: flags.steps, objective, path }] });
      else print(`objective ${objective.first?.toFixed(4)} -> ${objective.last?.toFixed(4)}\n${path}`);
    });

  withInputOptions(program.command('dream'))
    .description('DeepDream: amplify what a layer sees in a photo, over octaves')
    .argument('<model>', 'ONNX model file')
    .argument('<image>', 'a photo')
    .requiredOption('-l, --layer <name>', 'the layer whose activations are amplified (required)')
    .addOption(new Option('--octaves <n>', 'scales (needs a model with free height and width for more than 1)').default(1).argParser(parseInteger('--octaves', 1)))
    .addOption(new Option('--steps <n>', 'steps per octave').default(20).argParser(parseInteger('--steps', 1)))
    .addOption(new Option('--lr <rate>', 'step size').default(1.5).argParser(parseNumber('--lr', 0)))
    .option('-o, --out <file>', fileHelp('.png'), 'dream.png')
    .action(async (modelPath: string, imagePath: string, flags: { preset?: string; resize?: 'stretch' | 'center-crop'; size?: { height: number; width: number }; layer: string; octaves: number; steps: number; lr: number; out: string }, command: Command) => {
      const { dream } = await optimizeModule();
      const out = outFile(flags.out, ['.png']);
      const { model, loaded, lens } = await loadModelAndInputs(modelPath, [imagePath], flags);
      await lens.release(); // dream runs its own engine; the lens only prepared the image
      const progress = new Progress();
      await using engine = new GradientEngine(model);
      const result = await dream(engine, loaded.tensor, parseLayer(flags.layer), {
        octaves: flags.octaves,
        steps: flags.steps,
        learningRate: flags.lr,
        onStep: (step: number, value: number) => progress.update(`dream: step ${step + 1}, ${value.toFixed(3)}`),
      });
      progress.done();
      const path = await saveImage(out, result.image, loaded.tensor.dims, lens.spec.preset);
      if (wantsJson(command)) printJson({ files: [path], outputs: [{ kind: 'image', input: loaded.names[0], layer: flags.layer, octaves: flags.octaves, steps: flags.steps, path }] });
      else print(path);
    });
}
