import { journalStreamId } from "@otmetka/proto/journal-stream";
import { levelsOf, type Scope } from "./deltas.js";
import { type Data, scopeOf, str, yearOf } from "./event-data.js";
import type { Q } from "./query.js";

/*
 * Change notices of curriculum's lesson events (scheduled, conducted with topic and homework,
 * cancelled, unscheduled, moved): the lesson is in its journal's view, its class group's
 * dashboards (journal fill, attendance) and every diary of its class group or subgroup on
 * its date(s). Journal and dashboards are named by the event; the pupils are found in flush,
 * one query for all the batch's lessons (no query per event). Live only: a rebuild publishes
 * none.
 */

/** Who is told of a change: `ctx.changed` of @otmetka/projections. */
export type Changed = (kind: string, id: string) => void;

/** The batch's lessons whose pupils' diaries changed: `c|<class group>` or `s|<subgroup>` -> dates. */
export type LessonDiaries = Map<string, Set<string>>;

/** grades' journal id: the id its events carry and the gateway's journal subscription matches. */
const journalIdOf = (d: Data) =>
  journalStreamId({
    classGroupId: str(d, "classGroupId"),
    subgroupId: str(d, "subgroupId"),
    subjectId: str(d, "subjectId"),
    startYear: yearOf(d),
  });

/** The dashboards of every level over `scope` (class group to region). */
export function noticeDashboards(changed: Changed, scope: Scope): void {
  for (const [level, id] of levelsOf(scope)) changed(`dashboard-${level.toLowerCase()}`, id);
}

/** A lesson event's journal and dashboard notices; its diaries gathered for flush. */
export function noticeLessonChange(changed: Changed, diaries: LessonDiaries, d: Data): void {
  const classGroupId = str(d, "classGroupId");
  if (!classGroupId) return;
  changed("journal", journalIdOf(d));
  noticeDashboards(changed, scopeOf(d));
  const subgroupId = str(d, "subgroupId");
  const key = subgroupId ? `s|${subgroupId}` : `c|${classGroupId}`;
  const dates = diaries.get(key) ?? new Set<string>();
  diaries.set(key, dates);
  for (const day of [str(d, "date"), str(d, "toDate")]) if (day) dates.add(day);
}

/** The pupils on the roll of the gathered lessons on their dates: one query, then forgotten. */
export async function lessonDiaryPupils(q: Q, diaries: LessonDiaries): Promise<string[]> {
  if (diaries.size === 0) return [];
  const wanted = [...diaries].flatMap(([k, dates]) =>
    [...dates].map((day) => [k.slice(0, 1), k.slice(2), day] as const),
  );
  diaries.clear();
  const rows = await q<{ person_id: string }>(
    `SELECT e.person_id FROM unnest($1::text[], $2::text[], $3::date[]) w(kind, g, day)
       JOIN $S.enrollments e ON w.kind = 'c' AND e.class_group_id = w.g
        AND e.first_day <= w.day AND (e.until IS NULL OR e.until > w.day)
     UNION
     SELECT m.person_id FROM unnest($1::text[], $2::text[], $3::date[]) w(kind, g, day)
       JOIN $S.subgroup_members m ON w.kind = 's' AND m.subgroup_id = w.g
        AND m.first_day <= w.day AND (m.until IS NULL OR m.until > w.day)`,
    [0, 1, 2].map((i) => wanted.map((r) => r[i])),
  );
  return rows.map((r) => r.person_id);
}
