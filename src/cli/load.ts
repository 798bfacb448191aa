/** Loading a model and inputs for it, the first step of every command that takes images. */
import { readModelFile } from '../model/file.ts';
import { GraphView } from '../model/graph-view.ts';
import { normalizeOpset } from '../model/opset.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { declaredDims } from '../runtime/specialize.ts';
import { loadInputs, type LoadedInputs } from '../input/load-input.ts';
import type { ResizeMode } from '../input/image-file.ts';

export interface InputFlags {
  preset: string;
  resize: ResizeMode;
  size?: { height: number; width: number };
}

export async function loadModelAndInputs(modelPath: string, inputs: readonly string[], flags: InputFlags): Promise<{ model: ModelProto; view: GraphView; loaded: LoadedInputs }> {
  const model = readModelFile(modelPath);
  const view = new GraphView(normalizeOpset(model).graph!);
  const input = view.inputs[0]!;
  const loaded = await loadInputs(inputs, declaredDims(input) ?? [], {
    preset: flags.preset,
    resize: flags.resize,
    inputName: input.name,
    ...(flags.size ? { size: flags.size } : {}),
  });
  return { model, view, loaded };
}
