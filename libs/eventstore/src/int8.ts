import { InvalidEventStoreArgument } from "./errors.js";

/**
 * `pg` returns int8 columns as strings. This library decides once: positions and versions
 * are JavaScript numbers, valid up to Number.MAX_SAFE_INTEGER (9·10^15 — at 100k events/s
 * that is ~2,800 years of appends). Past it we fail loudly rather than round silently.
 * Transaction ids (xid8) are kept as decimal strings: they are only compared inside SQL.
 */
export function parseInt8(value: string | number | bigint, field: string): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidEventStoreArgument(
      field,
      `int8 value ${value} exceeds Number.MAX_SAFE_INTEGER`,
    );
  }
  return n;
}
