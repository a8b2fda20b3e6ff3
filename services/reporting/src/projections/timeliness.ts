import { dayNumber } from "../domain/metrics/civil-date.js";
import { countDelay } from "../domain/metrics/journal-fill.js";
import type { Deltas, PendingDelay, Scope } from "./deltas.js";
import { civilDate } from "./event-data.js";
import type { Q } from "./query.js";

const DEFAULT_ZONE = "Asia/Yekaterinburg";
const MISS_TTL_MS = 60_000;
const zones = new Map<string, { zone: string; until: number }>();

function cachedZone(schoolId: string): string | undefined {
  const known = zones.get(schoolId);
  return known && known.until > Date.now() ? known.zone : undefined;
}

// Few distinct dates, three day numbers an entry: checked and computed once each.
const dayNumbers = new Map<string, number>();

function dayOf(date: string, field: string): number {
  let n = dayNumbers.get(date);
  if (n === undefined) {
    n = dayNumber(date, field); // throws for a bad date: never cached
    if (dayNumbers.size > 10_000) dayNumbers.clear();
    dayNumbers.set(date, n);
  }
  return n;
}

function countDelayIn(deltas: Deltas, p: PendingDelay, zone: string): void {
  const recorded = civilDate(p.time, zone);
  const delay = dayOf(recorded, "time") - dayOf(p.lessonDate, "lessonDate");
  deltas.dailyAt(p.scope, p.subjectId, p.lessonDate, (c) => countDelay(c.journal, delay, p.sign));
}

/**
 * One journal entry (a mark, an attendance record, a topic) made at `time` for a lesson on
 * `lessonDate` (`sign` -1: one that counted leaves). Counted at once when the school's zone
 * is cached; otherwise left for flush, which looks all missing zones up in one query (no
 * query on the per-event path).
 */
export async function countEntryDelay(
  _q: Q,
  deltas: Deltas,
  scope: Scope,
  subjectId: string,
  lessonDate: string,
  time: string,
  sign: 1 | -1 = 1,
): Promise<void> {
  if (!lessonDate || !time) return;
  dayOf(lessonDate, "lessonDate"); // bad input fails at its event, as before
  const p = { scope, subjectId, lessonDate, time, sign };
  const zone = cachedZone(scope.schoolId);
  if (zone === undefined) deltas.pendingDelays.push(p);
  else countDelayIn(deltas, p, zone);
}

/**
 * The batch's entries of schools whose zone was not cached: one lookup for all of them; a
 * school not replicated yet is taken to be in the region's zone and asked for again a
 * minute later.
 */
export async function countPendingDelays(q: Q, deltas: Deltas): Promise<void> {
  if (deltas.pendingDelays.length === 0) return;
  const missing = [...new Set(deltas.pendingDelays.map((p) => p.scope.schoolId))].filter(
    (s) => cachedZone(s) === undefined,
  );
  if (missing.length > 0) {
    const rows = await q<{ school_id: string; time_zone: string }>(
      "SELECT school_id, time_zone FROM $S.schools WHERE school_id = ANY($1::text[])",
      [missing],
    );
    if (zones.size > 10_000) zones.clear();
    const found = new Map(rows.map((r) => [r.school_id, r.time_zone]));
    for (const s of missing) {
      const zone = found.get(s);
      zones.set(s, {
        zone: zone ?? DEFAULT_ZONE,
        until: zone ? Number.POSITIVE_INFINITY : Date.now() + MISS_TTL_MS,
      });
    }
  }
  for (const p of deltas.pendingDelays.splice(0))
    countDelayIn(deltas, p, zones.get(p.scope.schoolId)?.zone ?? DEFAULT_ZONE);
}
