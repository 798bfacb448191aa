/** convlens: the public library API. */
export { parseModel, serializeModel, ModelError, MIN_OPSET, MAX_OPSET } from './model/model.ts';
export { readModelFile, writeModelFile } from './model/file.ts';
export type { ModelProto } from './model/onnx-proto.ts';
export { Session, RuntimeError, type Tensor, type SessionOptions } from './runtime/session.ts';
export { specialize, type Specialized } from './runtime/specialize.ts';
export { parseNpy, encodeNpy } from './runtime/npy.ts';
export { compile, compileSpecialized, CompileError, TARGET_WEIGHT, type CompileSpec, type CompiledGraph } from './autodiff/compile.ts';
export { ruleSets, ruleSetNames, type RuleSetName } from './autodiff/rulesets.ts';
export type { Rule, RuleContext, RuleTable } from './autodiff/rule.ts';
