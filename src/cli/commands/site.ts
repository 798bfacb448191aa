/** `convlens site --out DIR [MODEL]`: the explorer as a static site that runs models in the browser. */
import { Command, Option } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { presetNames } from '../../input/presets.ts';
import { resizeModes, type ResizeMode } from '../../input/crop-plan.ts';
import { parseInteger, readLabels, UsageError } from '../args.ts';
import { bundledModel } from '../../web/serve-command.ts';
import type { ModelSettings } from '../../web/workspace-core.ts';
import { print, printJson, wantsJson } from '../output.ts';

interface SiteFlags {
  out: string;
  preset?: string;
  resize?: ResizeMode;
  labels?: string;
  samples?: string;
  serve?: boolean;
  port: number;
}

// Loaded when the command runs (module-level, as every lazy import of the CLI: see inside.ts).
const buildSiteModule = () => import('../../web/static/build-site.ts');
const fileServerModule = () => import('../../web/static/file-server.ts');

export function registerSite(program: Command): void {
  program
    .command('site')
    .description('the explorer as a static site: models run in the browser (onnxruntime-web in a Web Worker), nothing is uploaded')
    .argument('[model]', 'ONNX model the page opens with (default: the bundled Fashion-MNIST model); users can open their own in the page')
    .option('-o, --out <dir>', 'output folder (created; an earlier site there is replaced)', 'convlens-site')
    .addOption(new Option('-p, --preset <name>', "input normalization (default: the model's own, else imagenet for color and unit for gray models)").choices([...presetNames]))
    .addOption(new Option('--resize <mode>', "how images are fitted to the model (default: the model's own, else center-crop)").choices([...resizeModes]))
    .option('--labels <file>', 'class names: a JSON array or one per line')
    .option('--samples <dir>', 'a folder of sample images to offer (default: the bundled samples with the bundled model)')
    .option('--serve', 'then serve the folder on 127.0.0.1 with COOP/COEP headers (onnxruntime-web threads) until Ctrl+C')
    .addOption(new Option('--port <n>', 'port for --serve (0: any free port)').default(8081).argParser(parseInteger('--port', 0)))
    .action(async (modelPath: string | undefined, flags: SiteFlags, command: Command) => {
      const bundled = modelPath === undefined ? bundledModel() : undefined;
      if (modelPath !== undefined && !existsSync(modelPath)) throw new UsageError(`model file '${modelPath}' does not exist`);
      if (flags.samples !== undefined && !existsSync(flags.samples)) throw new UsageError(`samples folder '${flags.samples}' does not exist`);
      const settings: ModelSettings | undefined = modelPath !== undefined ? { name: basename(modelPath) } : bundled?.settings;
      if (settings) {
        if (flags.preset) settings.preset = flags.preset;
        if (flags.resize) settings.resize = flags.resize;
        const labels = readLabels(flags.labels);
        if (labels) settings.labels = labels;
      }
      const bytes = modelPath !== undefined ? new Uint8Array(readFileSync(modelPath)) : bundled?.bytes;
      const samples = flags.samples !== undefined ? readdirSync(flags.samples).sort().map((f) => join(flags.samples!, f)) : (bundled?.samples ?? []);
      const { buildSite } = await buildSiteModule();
      const summary = await buildSite({ out: flags.out, ...(bytes && settings ? { model: { bytes, settings } } : {}), samples });
      if (wantsJson(command)) printJson(summary);
      else print(`static explorer: ${summary.out} (${summary.files} files, ${(summary.bytes / 1e6).toFixed(1)} MB)`);
      if (!flags.serve) {
        if (!wantsJson(command)) print(`open it from any file server, e.g. convlens site --out ${flags.out} --serve, or python3 -m http.server -d ${flags.out} (single-threaded without COOP/COEP headers)`);
        return;
      }
      const { serveStatic } = await fileServerModule();
      const served = await serveStatic(summary.out, { port: flags.port });
      process.stderr.write(`convlens static explorer: ${served.url}  (Ctrl+C to stop)\n`);
      const stop = () => void served.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
