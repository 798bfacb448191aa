/** The explorer's method list (`GET /api/methods`, and the static explorer's worker) from the method registry. */
import { methods } from '../methods/registry.ts';
import { defaultsOf } from '../methods/options.ts';
import type { MethodEntry } from './api-types.ts';

export function methodEntries(): MethodEntry[] {
  return methods.map((m) => ({
    id: m.id,
    family: m.family,
    output: m.output,
    usesLayers: m.usesLayers,
    needsGradients: m.needsGradients,
    paper: m.paper,
    summary: m.summary,
    signed: m.signed === true,
    defaults: defaultsOf(m.options),
    options: m.options,
  }));
}
