/**
 * `convlens demo`: every method on the bundled model and its sample images, as a report.
 * `convlens demo --real`: real pretrained CNNs from @vladmandic/human on real photos
 * (models/real/): the emotion CNN on a face, and CenterNet's `dog` heat map over the
 * dog's detected box.
 */
import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { methodIds } from '../../methods/registry.ts';
import { UsageError } from '../args.ts';
import { parseMethods } from '../suggest.ts';
import { folderHelp } from '../out-path.ts';
import { explainJson } from '../explain-json.ts';
import { runExplain } from '../run-explain.ts';
import { printJson, wantsJson } from '../output.ts';
import { formatScore } from '../../targets/head.ts';
import { packageFile } from '../../package-files.ts';

export const bundledModelDir = packageFile('models', 'fashion-mnist');
export const realDir = packageFile('models', 'real');

/** CenterNet at 512x512 explained by the methods that take seconds, not minutes (unless -m says otherwise). */
const centerNetMethods = ['grad-cam', 'grad-cam-plus-plus', 'hires-cam', 'layer-cam', 'saliency', 'guided-backprop', 'guided-grad-cam'];

/** The models folder of @vladmandic/human: --models, else the installed package. */
function humanModels(given: string | undefined): string {
  const has = (dir: string) => existsSync(join(dir, 'emotion.json')) && existsSync(join(dir, 'centernet.json'));
  if (given !== undefined) {
    if (!has(given)) throw new UsageError(`--models '${given}' has no emotion.json and centernet.json: give the models folder of @vladmandic/human`);
    return given;
  }
  try {
    // The package exports only its bundles: its models folder is next to dist/.
    const dir = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '..', 'models');
    if (has(dir)) return dir;
  } catch {
    // not installed: the hint below
  }
  throw new UsageError('the real-photo demo needs the models of @vladmandic/human (MIT): npm install @vladmandic/human, or give --models DIR');
}

interface BundledMeta {
  preset: string;
  labels: string;
  testAccuracy: number;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run every method on the bundled Fashion-MNIST model and its samples; writes an HTML report')
    .option('-o, --out <dir>', folderHelp, 'convlens-demo')
    .addOption(new Option('-m, --method <ids>', `methods, comma-separated (${methodIds.join(', ')})`).default(methodIds, 'all').argParser(parseMethods))
    .option('--real', 'real pretrained models on real photos: the emotion CNN and CenterNet of @vladmandic/human (a dev dependency; npm install @vladmandic/human)')
    .option('--models <dir>', 'with --real: the models folder of @vladmandic/human (default: the installed package)')
    .action(async (flags: { out: string; method: string[]; real?: boolean; models?: string }, command: Command) => {
      if (flags.real) {
        await realDemo(flags, command.getOptionValueSource('method') === 'default', wantsJson(command));
        return;
      }
      const metaPath = join(bundledModelDir, 'meta.json');
      if (!existsSync(metaPath)) throw new UsageError(`the bundled model is missing (${metaPath}): reinstall convlens`);
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as BundledMeta;
      const summary = await runExplain({
        model: join(bundledModelDir, 'model.onnx'),
        inputs: [join(bundledModelDir, 'samples')],
        methods: flags.method,
        out: flags.out,
        preset: meta.preset,
        resize: 'stretch',
        labels: join(bundledModelDir, meta.labels),
        raw: false,
        colormap: 'jet',
        alpha: 0.5,
        options: { target: 'auto', batchSize: 8, seed: 0 },
        title: `convlens demo: Fashion-MNIST CNN (test accuracy ${(100 * meta.testAccuracy).toFixed(1)}%)`,
      });
      if (wantsJson(command)) printJson(explainJson(summary, flags.out));
      else process.stdout.write(`${summary.methods.length} methods on ${summary.inputs.length} images; report: ${summary.report}\n`);
    });
}

async function realDemo(flags: { out: string; method: string[]; models?: string }, defaultMethods: boolean, json: boolean): Promise<void> {
  const models = humanModels(flags.models);
  const common = { raw: false, colormap: 'jet' as const, alpha: 0.5, resize: 'stretch' as const };
  const emotion = await runExplain({
    ...common,
    model: join(models, 'emotion.json'),
    inputs: [join(realDir, 'astronaut-face.jpg')],
    methods: flags.method,
    out: join(flags.out, 'emotion'),
    preset: 'tf',
    labels: join(realDir, 'emotion.labels.txt'),
    options: { target: 'auto', batchSize: 8, seed: 0 },
    title: 'convlens demo --real: face expression CNN (mini-Xception, @vladmandic/human) on a NASA portrait',
  });
  const detector = await runExplain({
    ...common,
    model: join(models, 'centernet.json'),
    inputs: [join(realDir, 'dog.jpg')],
    methods: defaultMethods ? centerNetMethods : flags.method,
    out: join(flags.out, 'centernet'),
    preset: 'raw',
    labels: join(realDir, 'coco.labels.txt'),
    options: { target: 'auto', output: 'tower_0/keypoints', batchSize: 8, seed: 0 },
    targetFlags: { target: 'auto', output: 'tower_0/keypoints', box: 'dog' },
    title: 'convlens demo --real: CenterNet (MobileNetV3, @vladmandic/human), the dog heat map over its detected box',
  });
  if (json) printJson({ emotion: explainJson(emotion, join(flags.out, 'emotion')), centernet: explainJson(detector, join(flags.out, 'centernet')) });
  else {
    for (const [what, s] of [['emotion CNN', emotion], ['CenterNet', detector]] as const) {
      const top = s.inputs[0]?.top.slice(0, 3).map(formatScore).join(', ');
      process.stdout.write(`${what}: ${top}; ${s.methods.length} methods; report: ${s.report}\n`);
    }
  }
}
