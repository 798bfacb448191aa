/**
 * The method registry: the one list that the CLI choices, the web UI, the README table and
 * the cross-method tests all read.
 */
import { ConvlensError } from '../errors.ts';
import type { Method } from './types.ts';
import { gradient, saliency, inputXGradient, guidedBackprop } from './gradient/simple.ts';
import { deconvnet } from './gradient/deconvnet.ts';
import { smoothable, smoothgrad, smoothgradSquared, vargrad } from './gradient/smoothgrad.ts';
import { integratedGradients } from './gradient/integrated-gradients.ts';
import { cam } from './cam/cam.ts';
import { gradCam } from './cam/grad-cam.ts';
import { gradCamPlusPlus } from './cam/grad-cam-plus-plus.ts';
import { guidedGradCam, guidedGradCamPlusPlus } from './cam/guided-cams.ts';
import { xgradCam } from './cam/xgrad-cam.ts';
import { hiresCam } from './cam/hires-cam.ts';
import { layerCam } from './cam/layer-cam.ts';
import { eigenCam } from './cam/eigen-cam.ts';
import { scoreCam } from './cam/score-cam.ts';
import { ablationCam } from './cam/ablation-cam.ts';
import { occlusion, occlusionProbability } from './perturbation/occlusion.ts';
import { rise } from './perturbation/rise.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethod = Method<any>;

export const methods: readonly AnyMethod[] = [
  gradient,
  saliency,
  inputXGradient,
  guidedBackprop,
  deconvnet,
  smoothgrad,
  smoothgradSquared,
  vargrad,
  integratedGradients,
  cam,
  gradCam,
  gradCamPlusPlus,
  guidedGradCam,
  guidedGradCamPlusPlus,
  xgradCam,
  hiresCam,
  layerCam,
  eigenCam,
  occlusion,
  occlusionProbability,
  rise,
  scoreCam,
  ablationCam,
];

export const methodIds = methods.map((m) => m.id);

for (const m of [gradient, saliency, inputXGradient, guidedBackprop]) smoothable.set(m.id, m.gradient);
smoothable.set('deconvnet', { rules: 'deconvnet', output: 'image', fromGradient: (g) => g });

export class UnknownMethodError extends ConvlensError {
  override name = 'UnknownMethodError';
}

export function getMethod(id: string): AnyMethod {
  const m = methods.find((x) => x.id === id);
  if (!m) throw new UnknownMethodError(`unknown method '${id}' (choices: ${methodIds.join(', ')})`);
  return m;
}
