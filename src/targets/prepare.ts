/**
 * From a target and a batch to the tensor a method differentiates and its weights: picks
 * the explained output's head (see head.ts), and runs what the target needs to be placed
 * (the scores for top-k, the detections for a detection on a dense head, the reference
 * image's embedding for a similarity), then resolves the weights (targets.ts).
 */
import type { GradientEngine } from '../autodiff/engine.ts';
import type { Specialized } from '../runtime/specialize.ts';
import type { Tensor } from '../runtime/session.ts';
import { checkOutput, findHead, type Head } from './head.ts';
import { denseAxes, isDetections, needsRawOutput, resolveTargets, TargetError, type ResolvedTargets, type Target, type TargetContext } from './targets.ts';

export interface PreparedTarget {
  head: Head;
  targets: ResolvedTargets;
}

export async function prepareTarget(engine: GradientEngine, s: Specialized, images: Tensor, target: Target, output: string | undefined, input: NonNullable<TargetContext['input']>): Promise<PreparedTarget> {
  const name = checkOutput(s, output);
  const head = findHead(s, name, needsRawOutput(target, s.shapes.get(name) ?? []));
  const n = images.dims[0]!;
  const targetShape = [n, ...s.shapes.get(head.tensor)!.slice(1)];
  const context: TargetContext = { input };
  let scores: Tensor | undefined;
  const object = typeof target === 'object' && !Array.isArray(target) ? (target as Exclude<Target, 'auto' | number | string | readonly unknown[]>) : undefined;
  const nhwcAuto = target === 'auto' && targetShape.length === 4 && denseAxes(targetShape, input).classAxis === 3;
  if (nhwcAuto || (object && ('topK' in object || 'similarTo' in object || ('detection' in object && isDetections(targetShape))))) {
    scores = (await engine.run(images, { expose: [head.tensor] })).exposed[head.tensor]!;
  }
  if (object && 'similarTo' in object) {
    const ref = object.similarTo;
    if (ref.dims.length !== images.dims.length || ref.dims[0] !== 1 || ref.dims.slice(1).some((d, i) => d !== images.dims[i + 1])) {
      throw new TargetError(`the reference image is [${ref.dims.join(', ')}]; it must be one image shaped like the inputs [1, ${images.dims.slice(1).join(', ')}]`);
    }
    context.reference = (await engine.run(ref, { expose: [head.tensor] })).exposed[head.tensor]!.data;
  }
  if (object && 'detection' in object && !isDetections(targetShape)) {
    const outputs = s.view.outputs.map((o) => o.name);
    const boxes = object.boxes !== undefined ? checkOutput(s, object.boxes) : outputs.find((o) => isDetections(s.shapes.get(o) ?? []));
    if (!boxes) throw new TargetError(`a detection target needs a detections output [N, K, 6] (x0, y0, x1, y1, score, class); the outputs are ${outputs.map((o) => `${o} [${(s.shapes.get(o) ?? []).join(', ')}]`).join(', ')}`);
    context.detections = (await engine.run(images, {})).outputs[boxes]!;
  }
  return { head, targets: resolveTargets(target, n, targetShape, scores, context) };
}
