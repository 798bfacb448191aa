/** `convlens annotate MODEL`: store input defaults, labels and a name in the model file's metadata. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { readModelFile, writeModelFile } from '../../model/file.ts';
import { presetNames, isPresetName } from '../../input/presets.ts';
import { resizeModes, type ResizeMode } from '../../input/image-file.ts';
import { readMetadataDefaults, writeMetadataDefaults, type ModelDefaults } from '../../app/model-defaults.ts';
import { parseSize, readLabels, UsageError } from '../args.ts';
import { print, printJson, wantsJson } from '../output.ts';
import { fileHelp, outFile } from '../out-path.ts';

interface AnnotateFlags {
  preset?: string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  labels?: string;
  name?: string;
  out?: string;
}

export function registerAnnotate(program: Command): void {
  program
    .command('annotate')
    .description("store a model's input defaults, class labels and name in its ONNX metadata (metadata_props), so every command uses them without flags; with no option, print what is stored")
    .argument('<model>', 'ONNX model file (rewritten in place unless -o is given)')
    .addOption(new Option('-p, --preset <name>', 'input normalization the model was trained with (default: keep what is stored)').choices([...presetNames]))
    .addOption(new Option('--resize <mode>', 'how images are fitted to the model (default: keep what is stored)').choices([...resizeModes]))
    .addOption(new Option('--size <H,W>', 'input size, for models whose height/width are symbolic (default: keep what is stored)').argParser(parseSize))
    .option('--labels <file>', 'class names: a JSON array or one per line (default: keep what is stored)')
    .option('--name <text>', 'display name in reports and the explorer (default: keep what is stored)')
    .option('-o, --out <file>', `${fileHelp('.onnx')} (default: rewrite MODEL in place)`)
    .action((modelPath: string, flags: AnnotateFlags, command: Command) => {
      const out = flags.out !== undefined ? outFile(flags.out, ['.onnx']) : undefined;
      const model = readModelFile(modelPath);
      const labels = readLabels(flags.labels);
      if (flags.preset !== undefined && !isPresetName(flags.preset)) throw new UsageError(`unknown preset '${flags.preset}'`);
      const given: ModelDefaults = {
        ...(flags.preset !== undefined && isPresetName(flags.preset) ? { preset: flags.preset } : {}),
        ...(flags.resize ? { resize: flags.resize } : {}),
        ...(flags.size ? { size: flags.size } : {}),
        ...(labels ? { labels } : {}),
        ...(flags.name !== undefined ? { name: flags.name } : {}),
      };
      if (Object.keys(given).length > 0) {
        writeMetadataDefaults(model, given);
        writeModelFile(out ?? modelPath, model);
      }
      const stored = readMetadataDefaults(model, `'${modelPath}'`);
      if (wantsJson(command)) printJson({ ...stored, ...(Object.keys(given).length > 0 ? { files: [out ?? resolve(modelPath)] } : {}) });
      else {
        const shown = { ...stored, ...(stored.labels ? { labels: `${stored.labels.length} labels (${stored.labels.slice(0, 3).join(', ')}${stored.labels.length > 3 ? ', ...' : ''})` } : {}) };
        print(Object.keys(shown).length ? Object.entries(shown).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n') : 'no convlens metadata stored');
      }
    });
}
