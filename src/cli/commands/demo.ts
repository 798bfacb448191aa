/** `convlens demo`: every method on the bundled model and its sample images, as a report. */
import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { methodIds } from '../../methods/registry.ts';
import { UsageError } from '../args.ts';
import { parseMethods } from '../suggest.ts';
import { folderHelp } from '../out-path.ts';
import { explainJson } from '../explain-json.ts';
import { runExplain } from '../run-explain.ts';
import { printJson, wantsJson } from '../output.ts';

export const bundledModelDir = fileURLToPath(new URL('../../../models/fashion-mnist/', import.meta.url));

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
    .action(async (flags: { out: string; method: string[] }, command: Command) => {
      const metaPath = `${bundledModelDir}meta.json`;
      if (!existsSync(metaPath)) throw new UsageError(`the bundled model is missing (${metaPath}): reinstall convlens`);
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as BundledMeta;
      const summary = await runExplain({
        model: `${bundledModelDir}model.onnx`,
        inputs: [`${bundledModelDir}samples`],
        methods: flags.method,
        out: flags.out,
        preset: meta.preset,
        resize: 'stretch',
        labels: `${bundledModelDir}${meta.labels}`,
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
