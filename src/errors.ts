/**
 * Errors caused by what the user gave (a model, an image, a name, an option): the message
 * names the problem and the fix. The CLI prints it in one line and exits 1; anything else
 * is an internal error (exit 2).
 */
export class ConvlensError extends Error {
  override name = 'ConvlensError';
}

/** A method option out of its range or of the wrong kind. */
export class OptionError extends ConvlensError {
  override name = 'OptionError';
}
