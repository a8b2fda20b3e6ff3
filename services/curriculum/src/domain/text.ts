import { hasControlCharacter } from "@otmetka/service-kit";
import { invalidInput } from "./errors.js";

/*
 * Limits of curriculum's free texts and ids (README "Input limits"). A text is trimmed; one
 * over its limit, blank where required, or holding a control character is INVALID_ARGUMENT
 * naming the field. NUL would fail in PostgreSQL (text and jsonb refuse it) as INTERNAL.
 */
export const TEXT_LIMITS = {
  /** Subject names, names of holidays and days off. */
  name: 200,
  room: 50,
  /** A lesson's topic, a work programme item's topic. */
  topic: 500,
  homework: 4000,
  /** Why a lesson was cancelled. */
  reason: 500,
  /** Every id and command id. */
  id: 200,
  /** Any other string of a request (dates, zones, codes): checked by its own rule after this. */
  any: 10_000,
} as const;

export interface TextRule {
  max: number;
  /** Blank (empty or only white space) is refused. Default true. */
  required?: boolean;
  /** Line breaks and tabs are allowed (homework, a reason). Default false. */
  multiline?: boolean;
}

/** Checks and trims a free text; the message names the field and the rule, never the value. */
export function checkText(field: string, raw: string, rule: TextRule): string {
  const text = raw.trim();
  if (rule.required !== false && text === "") throw invalidInput(field, "must not be empty");
  if (text.length > rule.max) throw invalidInput(field, `must be at most ${rule.max} characters`);
  if (hasControlCharacter(text, rule.multiline === true)) {
    throw invalidInput(
      field,
      rule.multiline
        ? "must not contain control characters (other than line breaks and tabs)"
        : "must be one line without control characters",
    );
  }
  return text;
}
