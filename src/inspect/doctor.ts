/**
 * `check(model)`: which ops a model uses and which families of methods it supports, with
 * the reason when one is not. The reasons come from the compiler itself (a family is
 * supported exactly when its graph compiles), so this report cannot drift from behaviour.
 */
import type { ModelProto } from '../model/onnx-proto.ts';
import { defaultOpset, ModelError } from '../model/model.ts';
import { normalizeOpset } from '../model/opset.ts';
import { GraphView } from '../model/graph-view.ts';
import { declaredDims } from '../runtime/specialize.ts';
import { compileSpecialized, specializeFor } from '../autodiff/compile.ts';
import { isForbidden, NO_GRADIENT } from '../autodiff/rule.ts';
import { ruleSets } from '../autodiff/rulesets.ts';
import { defaultLayer } from '../targets/layers.ts';
import { ConvlensError } from '../errors.ts';
import { assertInputSize } from '../runtime/finite.ts';

/** A reason for the report: the user-facing message, or a labelled internal error (never a bare JS message). */
const reasonOf = (e: unknown): string =>
  e instanceof ConvlensError ? e.message : `internal error (please report it): ${(e as Error)?.message ?? String(e)}`;

export type OpStatus = 'gradient' | 'no-gradient' | 'forbidden' | 'unsupported';

export interface CheckReport {
  opset: number;
  inputs: { name: string; shape: (number | undefined)[] }[];
  outputs: string[];
  ops: { op: string; count: number; status: OpStatus }[];
  families: { family: string; supported: boolean; reason?: string }[];
}

export const methodFamilies = {
  forward: 'perturbation methods (occlusion, Score-CAM, Ablation-CAM, RISE), feature maps',
  'input-gradient': 'saliency, gradient, input x gradient, SmoothGrad, Integrated Gradients, class model visualization',
  'layer-gradient': 'the Grad-CAM family at the default layer',
  guided: 'guided backpropagation, Guided Grad-CAM',
  deconvnet: 'deconvnet',
} as const;

function opStatus(op: string): OpStatus {
  const e = ruleSets.gradient[op];
  if (e === undefined) return 'unsupported';
  if (e === NO_GRADIENT) return 'no-gradient';
  if (isForbidden(e)) return 'forbidden';
  return 'gradient';
}

/** Shape to probe with: the declared one, batch 1 for a symbolic batch. */
function probeShape(dims: (number | undefined)[]): number[] | undefined {
  const filled = dims.map((d, i) => d ?? (i === 0 ? 1 : undefined));
  return filled.every((d) => d !== undefined) ? (filled as number[]) : undefined;
}

export async function check(model: ModelProto, inputShape?: number[]): Promise<CheckReport> {
  const view = new GraphView(normalizeOpset(model).graph!);
  const counts = new Map<string, number>();
  for (const n of view.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  const inputs = view.inputs.map((i) => ({ name: i.name, shape: declaredDims(i) ?? [] }));
  const report: CheckReport = {
    opset: defaultOpset(model),
    inputs,
    outputs: view.outputs.map((o) => o.name),
    ops: [...counts].map(([op, count]) => ({ op, count, status: opStatus(op) })).sort((a, b) => a.op.localeCompare(b.op)),
    families: [],
  };
  const shape = inputShape ?? (inputs.length === 1 ? probeShape(inputs[0]!.shape) : undefined);
  const fail = (reason: string) => Object.keys(methodFamilies).map((family) => ({ family, supported: false, reason }));
  if (!shape) {
    report.families = fail('the input size is not fixed in the model: give one (e.g. --size 224,224)');
    return report;
  }
  let s;
  try {
    assertInputSize(shape.slice(1), `input '${inputs[0]?.name ?? 'input'}'`);
    s = await specializeFor(model, { inputShape: shape });
  } catch (e) {
    report.families = fail(reasonOf(e));
    return report;
  }
  const input = s.view.inputs[0]!.name;
  const layer = defaultLayer(s);
  const attempt = (family: string, f: () => void) => {
    try {
      f();
      report.families.push({ family, supported: true });
    } catch (e) {
      report.families.push({ family, supported: false, reason: reasonOf(e) });
    }
  };
  attempt('forward', () => undefined);
  attempt('input-gradient', () => compileSpecialized(s, { inputShape: shape, wrt: [input] }));
  attempt('layer-gradient', () => {
    if (!layer) throw new ModelError('the model has no layer with spatial dimensions');
    compileSpecialized(s, { inputShape: shape, wrt: [layer.tensor] });
  });
  attempt('guided', () => compileSpecialized(s, { inputShape: shape, wrt: [input], rules: 'guided' }));
  attempt('deconvnet', () => compileSpecialized(s, { inputShape: shape, wrt: [input], rules: 'deconvnet' }));
  return report;
}
