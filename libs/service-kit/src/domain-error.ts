/**
 * The kinds of failure a domain may report, one per row of conventions.md "Errors". Anything
 * that is not a DomainError is internal: logged, and masked for clients.
 */
export type DomainErrorKind =
  | "invalid_argument" // invalid input -> INVALID_ARGUMENT
  | "failed_precondition" // a rule is violated -> FAILED_PRECONDITION
  | "conflict" // version conflict after retries -> ABORTED
  | "unauthenticated" // no or bad token -> UNAUTHENTICATED
  | "permission_denied" // out of scope -> PERMISSION_DENIED
  | "not_found" // unknown id -> NOT_FOUND
  | "unavailable"; // a dependency or a not-yet-replicated fact; retry later -> UNAVAILABLE

/** Messages name the field and the rule; they are shown to clients as they are. */
export class DomainError extends Error {
  override readonly name: string = "DomainError";
  readonly kind: DomainErrorKind;
  /** The input field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(kind: DomainErrorKind, message: string, options: { field?: string } = {}) {
    super(message);
    this.kind = kind;
    this.field = options.field;
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

/**
 * A client's value for an error message: JSON-quoted (control characters escaped) and cut to
 * `max` characters with its length noted, so a huge value cannot swell a reply's trailer.
 */
export function quoteInput(value: string, max = 40): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}
