import { invalidInput } from "../errors.js";

/** A journal entry's value: 1-5, зачёт/незачёт, н/а (domain.md glossary "Mark"). */
export type EntryValue = 1 | 2 | 3 | 4 | 5 | "PASS" | "FAIL" | "NOT_ATTESTED";
export type FivePoint = 1 | 2 | 3 | 4 | 5;
export type Scale = "FIVE_POINT" | "PASS_FAIL";

export const isFivePoint = (v: EntryValue): v is FivePoint => typeof v === "number";

/** A current entry in the journal: its value and the weight of its work type. */
export interface Entry {
  readonly value: EntryValue;
  readonly weight: number;
}

export function checkEntry(entry: Entry, field: string): void {
  const v = entry.value;
  const ok =
    v === "PASS" ||
    v === "FAIL" ||
    v === "NOT_ATTESTED" ||
    (Number.isInteger(v) && v >= 1 && v <= 5);
  if (!ok)
    throw invalidInput(
      `${field}.value`,
      `must be 1-5, PASS, FAIL or NOT_ATTESTED, got ${String(v)}`,
    );
  if (!Number.isInteger(entry.weight) || entry.weight < 1) {
    throw invalidInput(`${field}.weight`, `must be a positive integer, got ${entry.weight}`);
  }
}
