import { DomainError } from "@otmetka/service-kit";

/*
 * Typed refusals; messages name the field and the rule. `rule` names the journal rule of
 * domain.md that refused, so clients (and tests) can tell them apart.
 */
export const invalidInput = (field: string, rule: string) =>
  new DomainError("invalid_argument", `${field}: ${rule}`, { field });

/** A journal rule of domain.md was violated: FAILED_PRECONDITION, message `<field>: [<rule>] ...`. */
export const ruleViolated = (field: string, rule: JournalRule, detail: string) =>
  new DomainError("failed_precondition", `${field}: [${rule}] ${detail}`, { field });

export const notFound = (field: string, what: string, id: string) =>
  new DomainError("not_found", `${field}: no ${what} ${id}`, { field });

/**
 * A fact grades' replicas have not seen yet (the event may still be on its way): UNAVAILABLE,
 * retryable, never a permanent refusal.
 */
export const notReplicatedYet = (field: string, what: string, id: string) =>
  new DomainError(
    "unavailable",
    `${field}: ${what} ${id} is not known to grades yet (replica behind or fact missing); retry later`,
    { field },
  );

/** The names of the journal's rules, as they appear in error messages. */
export type JournalRule =
  | "value_off_scale"
  | "student_not_enrolled"
  | "author_not_assigned"
  | "lesson_not_in_journal"
  | "lesson_in_future"
  | "lesson_cancelled"
  | "mark_unknown"
  | "mark_revoked"
  | "value_unchanged"
  | "term_closed"
  | "term_mark_exists"
  | "term_mark_in_subgroup"
  | "term_not_closed"
  | "attendance_not_recorded"
  | "not_absent"
  | "absence_already_excused"
  | "outside_academic_year"
  | "already_exempt"
  | "no_such_term"
  | "term_not_begun"
  | "weights_unchanged";
