/**
 * The stabilizer of every relevance rule's denominator (Montavon et al. 2019, "Layer-Wise
 * Relevance Propagation: An Overview", section 10.2.1, LRP-epsilon; zennit's `Stabilizer`):
 *   stab(z) = z + eps * sign(z),   sign(0) = +1,
 * so a zero pre-activation is divided by eps, never by zero, and the sign of z is kept.
 */
import type { RuleContext } from '../rule.ts';

/** zennit's default stabilizer for the non-epsilon rules (z+, gamma, alpha-beta, z^B, flat, w^2, Norm). */
export const STABILIZER = 1e-6;

export function stabilize(ctx: RuleContext, z: string, eps: number, hint: string): string {
  const nonNegative = ctx.op('GreaterOrEqual', [z, ctx.scalar(0, z)], {}, `${hint}_sign`);
  const signedEps = ctx.op('Where', [nonNegative, ctx.scalar(eps, z), ctx.scalar(-eps, z)], {}, `${hint}_eps`);
  return ctx.op('Add', [z, signedEps], {}, hint);
}

/** s = R / stab(z): the relevance per unit of pre-activation (Montavon et al. 2019, section 10.2.3, step 2 of the four-step implementation). */
export function relevanceRatio(ctx: RuleContext, relevance: string, z: string, eps: number, hint: string): string {
  return ctx.op('Div', [relevance, stabilize(ctx, z, eps, `${hint}_stab`)], {}, hint);
}
