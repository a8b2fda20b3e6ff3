import { dayNumber } from "../domain/metrics/civil-date.js";
import { countDelay } from "../domain/metrics/journal-fill.js";
import type { Deltas, Scope } from "./deltas.js";
import { civilDate } from "./event-data.js";
import type { Q } from "./query.js";

const zones = new Map<string, string>();

async function zoneOf(q: Q, schoolId: string): Promise<string> {
  const known = zones.get(schoolId);
  if (known) return known;
  const [r] = await q<{ time_zone: string }>(
    "SELECT time_zone FROM $S.schools WHERE school_id = $1",
    [schoolId],
  );
  // Only a replicated zone is remembered; the default may still be replaced.
  if (r) zones.set(schoolId, r.time_zone);
  return r?.time_zone ?? "Asia/Yekaterinburg";
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
