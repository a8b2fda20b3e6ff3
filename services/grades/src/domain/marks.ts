import { invalidInput, ruleViolated } from "./errors.js";

/** Proto3 JSON names of otmetka.grades.events.v1.MarkValue. */
export type MarkValue =
  | "MARK_VALUE_ONE"
  | "MARK_VALUE_TWO"
  | "MARK_VALUE_THREE"
  | "MARK_VALUE_FOUR"
  | "MARK_VALUE_FIVE"
  | "MARK_VALUE_PASS"
  | "MARK_VALUE_FAIL"
  | "MARK_VALUE_NOT_ATTESTED";

export type Grading = "GRADING_FIVE_POINT" | "GRADING_PASS_FAIL";

const POINTS: Partial<Record<MarkValue, number>> = {
  MARK_VALUE_ONE: 1,
  MARK_VALUE_TWO: 2,
  MARK_VALUE_THREE: 3,
  MARK_VALUE_FOUR: 4,
  MARK_VALUE_FIVE: 5,
};

/** 1-5 for a five-point mark; undefined for pass/fail and special entries (not marks). */
export const pointsOf = (v: MarkValue): number | undefined => POINTS[v];

const ALL = new Set<string>([
  ...Object.keys(POINTS),
  "MARK_VALUE_PASS",
  "MARK_VALUE_FAIL",
  "MARK_VALUE_NOT_ATTESTED",
]);

/**
 * The journal's scale: five-point journals take 1-5, pass/fail journals PASS/FAIL; н/а
 * (NOT_ATTESTED) and зч (PASS) are special entries both accept.
 */
export function checkValue(field: string, value: string, grading: Grading): MarkValue {
  if (!ALL.has(value)) throw invalidInput(field, `must be a mark value, got "${value}"`);
  const v = value as MarkValue;
  const fits =
    v === "MARK_VALUE_NOT_ATTESTED" ||
    v === "MARK_VALUE_PASS" ||
    (grading === "GRADING_FIVE_POINT" ? pointsOf(v) !== undefined : v === "MARK_VALUE_FAIL");
  if (!fits) {
    const scale = grading === "GRADING_FIVE_POINT" ? "1-5, зч or н/а" : "pass/fail or н/а";
    throw ruleViolated(field, "value_off_scale", `${v} is not on this journal's scale (${scale})`);
  }
  return v;
}

/** Work types every school has, with the weights used until it sets its own table. */
export const DEFAULT_WORK_TYPE_WEIGHTS: Readonly<Record<string, number>> = {
  ORAL: 1,
  HOMEWORK: 1,
  INDEPENDENT: 2,
  TEST: 3,
  CONTROL: 4,
};

export function checkWorkType(field: string, workType: string): string {
  if (!/^[A-Z][A-Z0-9_]{0,31}$/.test(workType))
    throw invalidInput(
      field,
      `must be an upper-case work type code (e.g. ORAL), got "${workType}"`,
    );
  return workType;
}

/** The weight of a work type in a school's table (its own, else the defaults). */
export function resolveWeight(
  field: string,
  workType: string,
  table: Readonly<Record<string, number>> | undefined,
): number {
  const weight = (table ?? DEFAULT_WORK_TYPE_WEIGHTS)[workType];
  if (weight === undefined) {
    throw invalidInput(
      field,
      `work type ${workType} is not in the school's table (${Object.keys(table ?? DEFAULT_WORK_TYPE_WEIGHTS).join(", ")})`,
    );
  }
  return weight;
}

/** sum(w·m) / sum(w) over five-point marks, two decimals; "" when there are none. */
export function weightedAverage(marks: Iterable<{ value: MarkValue; weight: number }>): string {
  let sum = 0;
  let weights = 0;
  for (const m of marks) {
    const p = pointsOf(m.value);
    if (p === undefined) continue;
    sum += p * m.weight;
    weights += m.weight;
  }
  return weights === 0 ? "" : (sum / weights).toFixed(2);
}
