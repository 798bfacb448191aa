/**
 * Rule sets: override maps over the plain gradient table. The compiler is the same for all.
 *
 * - gradient: true vector-Jacobian products.
 * - guided (Springenberg et al. 2015, "Striving for Simplicity", section 3.4 / figure 1):
 *   a rectifier passes the gradient only where its forward input is positive AND the
 *   incoming gradient is positive: R_in = (x > 0) * relu(R_out). Applied to the rectifier
 *   family: Relu; Clip (ReLU6 and any clip): (min < x < max) * relu(R_out); LeakyRelu and
 *   PRelu: f'(x) * relu(R_out). Smooth activations (Sigmoid, HardSwish, ...) keep their
 *   true gradient.
 * - deconvnet (Zeiler & Fergus 2014, section 2.1): a rectifier passes relu(R_out) whatever
 *   its forward input; Clip/ReLU6 likewise relu(R_out) (rectification, no switch on the
 *   forward value); LeakyRelu and PRelu apply themselves to the signal: leaky(R_out).
 *   Max-pooling routes through the forward switches and convolution through the transposed
 *   filters, which is what the plain rules already do. HardSwish and other smooth
 *   activations keep their true gradient.
 */
import { gradientRules } from './rules/index.ts';
import { guidedRules, deconvnetRules } from './rules/rectifiers.ts';
import type { RuleTable } from './rule.ts';

export const ruleSets = {
  gradient: gradientRules,
  guided: { ...gradientRules, ...guidedRules } as RuleTable,
  deconvnet: { ...gradientRules, ...deconvnetRules } as RuleTable,
} satisfies Record<string, RuleTable>;

export type RuleSetName = keyof typeof ruleSets;
export const ruleSetNames = Object.keys(ruleSets) as RuleSetName[];
