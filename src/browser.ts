/**
 * convlens without Node: the part of the public API that runs in a browser (a page sets
 * onnxruntime-web first with `setOrtBackend`). Bundlers pick this file through the
 * package's `browser` export condition; Node code imports 'convlens', which adds file
 * reading and writing, image decoding and PNG encoding (sharp).
 */
export { parseModel, serializeModel, ModelError, MIN_OPSET, MAX_OPSET } from './model/model.ts';
export type { ModelProto } from './model/onnx-proto.ts';
export { setOrtBackend, type OrtBackend } from './runtime/ort.ts';
export { parseNpy, encodeNpy } from './runtime/npy.ts';
export { GradientEngine, type EngineRequest, type EngineResult } from './autodiff/engine.ts';
export { ruleSetNames, type RuleSetName } from './autodiff/rulesets.ts';
export { compile, CompileError, TARGET_WEIGHT, type CompileSpec, type CompiledGraph } from './autodiff/compile.ts';
export { Explainer } from './methods/explainer.ts';
export { methods, methodIds, getMethod } from './methods/registry.ts';
export type { Explanation, Method, MethodInfo, CommonOptions, OutputKind } from './methods/types.ts';
export { spatialLayers, convLayers, resolveLayers, type LayerInfo, type LayerRef } from './targets/layers.ts';
export { resolveTargets, resolveClassNames, argmaxClasses, topClasses, cosineWeights, type Target, type ClassRef, type Region, type ResolvedTargets } from './targets/targets.ts';
export { findHead, probabilities, type Head, type Activation } from './targets/head.ts';
export { check, methodFamilies, type CheckReport } from './inspect/doctor.ts';
export * from './viz/index.ts';
export { imageToTensor, tensorToImage } from './input/preprocess.ts';
export { presetNames, type Preset } from './input/presets.ts';
