/**
 * Errors caused by what the user gave (a model, an image, a name, an option): the message
 * names the problem and the fix. The CLI prints it in one line and exits 1; anything else
 * is an internal error (exit 2).
 */
export class ConvlensError extends Error {
  override name = 'ConvlensError';

  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

/** Control characters (from names inside a user's file, say) escaped, so a message stays one line. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** A method option out of its range or of the wrong kind. */
export class OptionError extends ConvlensError {
  override name = 'OptionError';
}
