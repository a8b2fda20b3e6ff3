import { DomainError } from "@otmetka/service-kit";

/** Invalid input to a formula or query: INVALID_ARGUMENT, the message names the field and the rule. */
export const invalidInput = (field: string, rule: string) =>
  new DomainError("invalid_argument", `${field}: ${rule}`, { field });
