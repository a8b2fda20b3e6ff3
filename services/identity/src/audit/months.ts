/*
 * Calendar months in UTC, as partition keys: month index = year * 12 + (month - 1). UTC so
 * that a partition's bounds do not depend on the server's or the school's time zone.
 */

export const monthOf = (d: Date): number => d.getUTCFullYear() * 12 + d.getUTCMonth();

export const monthStart = (month: number): Date =>
  new Date(Date.UTC(Math.floor(month / 12), month % 12, 1));

/** `y2026m11`: the suffix of a month's partitions. */
export const monthSuffix = (month: number): string =>
  `y${Math.floor(month / 12)}m${String((month % 12) + 1).padStart(2, "0")}`;

const SUFFIX = /_y(\d{4})m(\d{2})$/;

/** The month of a partition's name, or undefined for a name that is not one of ours. */
export function monthOfPartition(name: string): number | undefined {
  const m = SUFFIX.exec(name);
  return m ? Number(m[1]) * 12 + Number(m[2]) - 1 : undefined;
}

/**
 * The oldest month still kept with a retention of `retentionMonths` at `now`: the current
 * month and the `retentionMonths` before it, so every record is kept at least that long.
 */
export const oldestKeptMonth = (now: Date, retentionMonths: number): number =>
  monthOf(now) - retentionMonths;
