/** The error a compile raises for a model, target or tensor it cannot differentiate. */
import { ConvlensError } from '../errors.ts';
export class CompileError extends ConvlensError {
  override name = 'CompileError';
}
