/** `convlens serve [MODEL]`: the interactive explorer in a browser (see API.md for its API). */
import { Command, Option } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { presetNames } from '../input/presets.ts';
import { resizeModes, type ResizeMode } from '../input/image-file.ts';
import { parseInteger, readLabels, UsageError } from '../cli/args.ts';
import { bundledModelDir } from '../cli/commands/demo.ts';
import type { ModelSettings } from './workspace.ts';
import { sizeOption } from '../cli/input-options.ts';

interface ServeFlags {
  port: number;
  host: string;
  preset?: string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  labels?: string;
  samples?: string;
  maxModelMb: number;
}

/** The bundled Fashion-MNIST model with its preset, labels and sample images, if installed. */
export function bundledModel(): { bytes: Uint8Array; settings: ModelSettings; samples: string[] } | undefined {
  const path = join(bundledModelDir, 'model.onnx');
  if (!existsSync(path)) return undefined;
  const meta = JSON.parse(readFileSync(join(bundledModelDir, 'meta.json'), 'utf8')) as { preset?: string; labels?: string };
  const settings: ModelSettings = { name: 'fashion-mnist (bundled)', resize: 'stretch' };
  if (meta.preset) settings.preset = meta.preset;
  const labels = readLabels(join(bundledModelDir, meta.labels ?? 'labels.json'));
  if (labels) settings.labels = labels;
  return { bytes: new Uint8Array(readFileSync(path)), settings, samples: imagesIn(join(bundledModelDir, 'samples')) };
}

const imagesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort().map((f) => join(dir, f)) : []);

// Loaded when the command runs (module-level, as every lazy import of the CLI: see src/cli/commands/inside.ts).
const serverModule = () => import('./server.ts');

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the interactive explorer: predictions, explanations, activations and the structure graph in a browser')
    .argument('[model]', 'ONNX model file (default: the bundled Fashion-MNIST model)')
    .addOption(new Option('--port <n>', 'port (0: any free port)').default(8080).argParser(parseInteger('--port', 0)))
    .option('--host <address>', 'address to listen on (only this machine by default)', '127.0.0.1')
    .addOption(new Option('-p, --preset <name>', "input normalization (default: the bundled model's, else imagenet for color and unit for gray models)").choices([...presetNames]))
    .addOption(new Option('--resize <mode>', 'how images are fitted to the model (default center-crop; stretch for the bundled model)').choices([...resizeModes]))
    .addOption(sizeOption())
    .option('--labels <file>', 'class names: a JSON array or one per line')
    .option('--samples <dir>', 'a folder of sample images to offer (default: the bundled samples)')
    .addOption(new Option('--max-model-mb <n>', 'largest model upload in MB').default(1024).argParser(parseInteger('--max-model-mb', 1)))
    .action(async (modelPath: string | undefined, flags: ServeFlags, command: Command) => {
      // The global --time-limit: here the budget of one request's model evaluation (the run is stopped, the server stays up).
      const timeLimit = command.optsWithGlobals<{ timeLimit?: number }>().timeLimit ?? 120;
      const bundled = bundledModel();
      if (modelPath === undefined && !bundled) throw new UsageError(`the bundled model is missing (${join(bundledModelDir, 'model.onnx')}): give a model file, e.g. convlens serve model.onnx`);
      if (modelPath !== undefined && !existsSync(modelPath)) throw new UsageError(`model file '${modelPath}' does not exist`);
      const settings: ModelSettings = modelPath === undefined ? bundled!.settings : { name: basename(modelPath) };
      const samplesDir = flags.samples ?? (modelPath === undefined ? join(bundledModelDir, 'samples') : undefined);
      if (flags.preset) settings.preset = flags.preset;
      if (flags.resize) settings.resize = flags.resize;
      if (flags.size) settings.size = flags.size;
      const labels = readLabels(flags.labels);
      if (labels) settings.labels = labels;
      const samples = samplesDir ? imagesIn(samplesDir) : [];
      const { startServer } = await serverModule();
      const served = await startServer({
        model: { bytes: modelPath === undefined ? bundled!.bytes : new Uint8Array(readFileSync(modelPath)), settings },
        samples,
        host: flags.host,
        port: flags.port,
        limits: { model: flags.maxModelMb * 1024 * 1024 },
        timeBudgetMs: timeLimit * 1000,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`convlens explorer: ${served.url}  (Ctrl+C to stop)\n`);
      const stop = () => void served.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
