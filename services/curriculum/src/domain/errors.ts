import { DomainError, quoteInput } from "@otmetka/service-kit";

/** Typed refusals; messages name the field and the rule. */
export const invalidInput = (field: string, rule: string) =>
  new DomainError("invalid_argument", `${field}: ${rule}`, { field });

export const refused = (field: string, rule: string) =>
  new DomainError("failed_precondition", `${field}: ${rule}`, { field });

// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
const PLAIN = /^[^\u0000-\u001F\u007F-\u009F]{0,64}$/;

/** A client's id for a message: as it is when short and plain, else a quoted prefix. */
export const shown = (value: string) => (PLAIN.test(value) ? value : quoteInput(value));

export const notFound = (field: string, what: string, id: string) =>
  new DomainError("not_found", `${field}: no ${what} ${shown(id)}`, { field });
