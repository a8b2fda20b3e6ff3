import { DomainError } from "@otmetka/service-kit";

/** Typed refusals; messages name the field and the rule. */
export const invalidInput = (field: string, rule: string) =>
  new DomainError("invalid_argument", `${field}: ${rule}`, { field });

export const refused = (field: string, rule: string) =>
  new DomainError("failed_precondition", `${field}: ${rule}`, { field });

export const notFound = (field: string, what: string, id: string) =>
  new DomainError("not_found", `${field}: no ${what} ${id}`, { field });
