import { dayNumber } from "../domain/metrics/civil-date.js";
import { countDelay } from "../domain/metrics/journal-fill.js";
import type { Deltas, Scope } from "./deltas.js";
import { civilDate } from "./event-data.js";
import type { Q } from "./query.js";

const DEFAULT_ZONE = "Asia/Yekaterinburg";
const MISS_TTL_MS = 60_000;
const zones = new Map<string, { zone: string; until: number }>();

/**
 * A school's zone, looked up once (it is on the per-event path); a school not replicated yet
 * is taken to be in the region's zone and asked for again a minute later.
 */
async function zoneOf(q: Q, schoolId: string): Promise<string> {
  const known = zones.get(schoolId);
  if (known && known.until > Date.now()) return known.zone;
  const [r] = await q<{ time_zone: string }>(
    "SELECT time_zone FROM $S.schools WHERE school_id = $1",
    [schoolId],
  );
  if (zones.size > 10_000) zones.clear();
  const zone = r?.time_zone ?? DEFAULT_ZONE;
  zones.set(schoolId, { zone, until: r ? Number.POSITIVE_INFINITY : Date.now() + MISS_TTL_MS });
  return zone;
}

/** One journal entry (a mark, an attendance record, a topic) made at `time` for a lesson on `lessonDate`. */
export async function countEntryDelay(
  q: Q,
  deltas: Deltas,
  scope: Scope,
  subjectId: string,
  lessonDate: string,
  time: string,
): Promise<void> {
  if (!lessonDate || !time) return;
  const recorded = civilDate(time, await zoneOf(q, scope.schoolId));
  const delay = dayNumber(recorded, "time") - dayNumber(lessonDate, "lessonDate");
  deltas.dailyAt(scope, subjectId, lessonDate, (c) => countDelay(c.journal, delay));
}
