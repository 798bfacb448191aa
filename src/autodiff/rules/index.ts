/**
 * The plain gradient table: every op convlens differentiates, keyed by exact ONNX op_type,
 * plus the ops that carry no gradient and the ones that must not be differentiated.
 */
import { NO_GRADIENT, type RuleTable } from '../rule.ts';
import { convRules } from './conv.ts';
import { linearRules } from './linear.ts';
import { normalizationRules } from './normalization.ts';
import { elementwiseRules } from './elementwise.ts';
import { arithmeticRules } from './arithmetic.ts';
import { poolingRules } from './pooling.ts';
import { reduceRules } from './reduce.ts';
import { layoutRules } from './layout.ts';
import { resizeRules } from './resize.ts';
import { rectifierGradientRules } from './rectifiers.ts';
import { softmaxRules } from './softmax.ts';

/** Integer, boolean and shape-valued ops, and piecewise-constant ones: zero gradient. */
const noGradient = Object.fromEntries(
  ['Shape', 'Size', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
    'ArgMax', 'ArgMin', 'NonZero', 'Floor', 'Ceil', 'Round', 'Sign', 'IsNaN', 'IsInf', 'ConstantOfShape', 'Range', 'EyeLike']
    .map((op) => [op, NO_GRADIENT]),
);

const forbidden = {
  If: { forbidden: 'its condition depends on the image; export the model without data-dependent control flow' },
  Loop: { forbidden: 'loops are not differentiated; export the model with the loop unrolled' },
  Scan: { forbidden: 'scans are not differentiated; export the model with the scan unrolled' },
  TopK: { forbidden: 'TopK selects by value; explain the scores before it' },
  NonMaxSuppression: { forbidden: 'detection post-processing is not differentiable; explain the raw head outputs' },
};

export const gradientRules: RuleTable = {
  ...convRules,
  ...linearRules,
  ...normalizationRules,
  ...elementwiseRules,
  ...rectifierGradientRules,
  ...arithmeticRules,
  ...poolingRules,
  ...reduceRules,
  ...layoutRules,
  ...resizeRules,
  ...softmaxRules,
  ...noGradient,
  ...forbidden,
};
