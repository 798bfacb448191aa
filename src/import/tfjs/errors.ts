/** The error of the TF.js importer: names the model part that cannot be imported and why. */
import { ConvlensError } from '../../errors.ts';

export class ImportError extends ConvlensError {
  override name = 'ImportError';
}
