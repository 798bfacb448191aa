/** Feature visualization: objectives, image parameterizations, transforms, regularizers and the ascent loop. */
export { classLogit, channel, neuron, sum, scale, negate, resolveObjective, objectiveValue, type Objective, type ObjectiveTerm, type ObjectivePart } from './objectives.ts';
export { pixels, fourier, COLOR_MIX, type Parameterization, type ImageParameters, type PixelOptions, type FourierOptions } from './parameterizations.ts';
export { jitter, randomScale, randomRotate, standardTransforms, shift, scaleRotate, resize, resample, warpMap, shiftAffine, scaleRotateAffine, composeAffine, type Transform, type Warp, type Affine, type Boundary } from './transforms.ts';
export { l2, totalVariation, blur, type Regularizer, type Penalty, type PeriodicBlur } from './regularizers.ts';
export { visualize, classModel, dream, adam, sgd, type VisualizeOptions, type Visualization, type ClassModelOptions, type DreamOptions, type DreamResult, type Optimizer, type OptimizerName, type StepCallback } from './optimize.ts';
export { compose, type ImageShape, type LinearMap } from './image.ts';
export { Fft, RealFft2 } from './fft.ts';
