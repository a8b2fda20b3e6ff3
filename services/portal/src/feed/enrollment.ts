import { civilDateIn } from "@otmetka/service-kit";

/**
 * The region's zone: a pupil's school and academic year in the feed change on the civil date
 * an enrollment or transfer takes effect there (region 74 lies in one zone, as reporting's).
 */
export const REGION_ZONE = "Asia/Yekaterinburg";

/** Where a pupil is enrolled from `from` (a civil date) on. */
export interface Placement {
  from: string;
  school_id: string;
  municipality_id: string;
  academic_year: number;
}

export const regionToday = (now = new Date()): string => civilDateIn(now, REGION_ZONE);

/** The pending placements by date with `p` added (a later one recorded for a date replaces it). */
export function withPending(pending: readonly Placement[], p: Placement): Placement[] {
  return [...pending.filter((x) => x.from !== p.from), p].sort((a, b) =>
    a.from.localeCompare(b.from),
  );
}

/** The placement in effect on `today` among the pending ones (the latest due), and those left. */
export function duePlacement(
  pending: readonly Placement[],
  today: string,
): { due: Placement | null; left: Placement[] } {
  const due = pending.filter((p) => p.from <= today);
  return { due: due[due.length - 1] ?? null, left: pending.filter((p) => p.from > today) };
}

/** Milliseconds from `now` to the start of `day` in the region (0 if it has begun). */
export function msUntilDay(day: string, now = new Date()): number {
  // The region's offset at `now` (no daylight saving there since 2014).
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const local = new Date(now.toLocaleString("en-US", { timeZone: REGION_ZONE }));
  const offsetMs =
    local.getTime() - new Date(now.toLocaleString("en-US", { timeZone: "UTC" })).getTime();
  return Math.max(0, Date.UTC(y, m - 1, d) - offsetMs - now.getTime());
}

/**
 * A dirty entry due at the start of the first pending day of every pupil holding a placement
 * recorded ahead, where the pupil has none: a rebuild writes no dirty entries (rebuild mode
 * drops them), so a read model rebuilt at start (the upgrade to version 3 among them) kept its
 * pending placements until the pupil's next change. One scan of the pupils, at activation.
 */
export async function armPendingDays(
  query: (text: string, params?: unknown[]) => Promise<unknown>,
  schema: string,
): Promise<void> {
  await query(
    `INSERT INTO portal.dirty (kind, key, due_at)
     SELECT 'pupil', person_id,
            greatest(now(), ((pending->0->>'from')::date::timestamp AT TIME ZONE $1))
       FROM "${schema}".pupils WHERE pending <> '[]'::jsonb AND NOT erased
     ON CONFLICT (kind, key) DO NOTHING`,
    [REGION_ZONE],
  );
}
