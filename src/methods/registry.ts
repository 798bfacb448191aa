/**
 * The method registry: the one list that the CLI choices, the web UI, the README table and
 * the cross-method tests all read.
 */
import { ConvlensError, OptionError } from '../errors.ts';
import type { Method } from './types.ts';
import { pickOptions, validateOptions } from './options.ts';
import { gradient, saliency, inputXGradient, guidedBackprop } from './gradient/simple.ts';
import { deconvnet } from './gradient/deconvnet.ts';
import { smoothgrad, smoothgradSquared, vargrad } from './gradient/smoothgrad.ts';
import { withSmoothing } from './smooth.ts';
import { integratedGradients } from './gradient/integrated-gradients.ts';
import { cam } from './cam/cam.ts';
import { gradCam } from './cam/grad-cam.ts';
import { gradCamPlusPlus } from './cam/grad-cam-plus-plus.ts';
import { guidedGradCam, guidedGradCamPlusPlus } from './cam/guided-cams.ts';
import { xgradCam } from './cam/xgrad-cam.ts';
import { hiresCam } from './cam/hires-cam.ts';
import { layerCam } from './cam/layer-cam.ts';
import { gradCamElementwise } from './cam/grad-cam-elementwise.ts';
import { finerCam } from './cam/finer-cam.ts';
import { fullGrad } from './cam/full-grad.ts';
import { eigenCam } from './cam/eigen-cam.ts';
import { scoreCam } from './cam/score-cam.ts';
import { ablationCam } from './cam/ablation-cam.ts';
import { occlusion, occlusionProbability } from './perturbation/occlusion.ts';
import { rise } from './perturbation/rise.ts';
import { lrp } from './relevance/lrp.ts';
import { deepLift, deepLiftShap } from './relevance/deeplift.ts';
import { gradientShapMethod } from './relevance/gradient-shap.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethod = Method<any>;

/** Every method; those without their own noise options take --smooth/--samples/--noise (smooth.ts). */
export const methods: readonly AnyMethod[] = (<AnyMethod[]>[
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
  gradCamElementwise,
  finerCam,
  fullGrad,
  eigenCam,
  occlusion,
  occlusionProbability,
  rise,
  scoreCam,
  ablationCam,
  lrp,
  deepLift,
  deepLiftShap,
  gradientShapMethod,
]).map((m) => withSmoothing(m));

export const methodIds = methods.map((m) => m.id);


export class UnknownMethodError extends ConvlensError {
  override name = 'UnknownMethodError';
}

export function getMethod(id: string): AnyMethod {
  const m = methods.find((x) => x.id === id);
  if (!m) throw new UnknownMethodError(`unknown method '${id}' (choices: ${methodIds.join(', ')})`);
  return m;
}

/**
 * Method options from an untrusted source (a web request): a JSON object of the method's
 * option names, each checked against the schema (throws OptionError), or undefined.
 */
export function requestOptions(id: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OptionError(`'options' must be an object of ${id}'s options, got ${JSON.stringify(value)}`);
  const method = getMethod(id);
  validateOptions(id, method.options, value as Record<string, unknown>);
  return pickOptions(method.options, value as Record<string, unknown>);
}

/** The part of an option set shared by several methods that method `id` takes (common options included). */
export function optionsFor<T extends Record<string, unknown>>(id: string, options: T): Partial<T> {
  return pickOptions(getMethod(id).options, options);
}
