/**
 * The one error type the package throws on bad input or misuse. `field` names what was wrong
 * (for example `groups[1].lr` or `params[3]`), where there is one.
 */
export class AdadeltaError extends Error {
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(field === undefined ? message : `${field}: ${message}`);
    this.name = 'AdadeltaError';
    this.field = field;
  }
}
