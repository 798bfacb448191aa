/** The error a compile raises for a model, target or tensor it cannot differentiate. */
export class CompileError extends Error {
  override name = 'CompileError';
}
