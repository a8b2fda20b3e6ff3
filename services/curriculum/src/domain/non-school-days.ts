import type { NewEvent } from "@otmetka/eventstore";
import { refused } from "./errors.js";
import type { NonSchoolDaysDeclared } from "./events.js";
import { type Lesson, type LessonsState, unscheduled } from "./lessons.js";

/**
 * What declaring `days` non-school does to the lessons already there, per class group: a
 * plain generated lesson still scheduled is unscheduled (as a regeneration would, the day no
 * longer being a school day). A moved one was put there by someone on purpose, and a
 * conducted one took place, so that day was a school day: either refuses the declaration
 * (first_day), naming the first five and counting them; the admin moves or cancels the moved
 * ones, or declares other days. Cancelled and unscheduled lessons are history and stay.
 */
export function lessonsOnDaysOff(
  groups: ReadonlyMap<string, LessonsState>,
  days: Pick<NonSchoolDaysDeclared, "firstDay" | "lastDay" | "name">,
): Map<string, NewEvent[]> {
  const on = (l: Lesson) => days.firstDay <= l.date && l.date <= days.lastDay;
  const held: Lesson[] = [];
  const events = new Map<string, NewEvent[]>();
  for (const [classGroupId, state] of groups) {
    const out: NewEvent[] = [];
    for (const l of state.lessons.values()) {
      if (!on(l)) continue;
      if (l.status === "conducted" || (l.status === "scheduled" && l.moved)) held.push(l);
      else if (l.status === "scheduled") out.push(unscheduled(l, `non-school day: ${days.name}`));
    }
    events.set(classGroupId, out);
  }
  if (held.length === 0) return events;
  held.sort(
    (a, b) =>
      a.date.localeCompare(b.date) || a.period - b.period || a.lessonId.localeCompare(b.lessonId),
  );
  const named = held
    .slice(0, 5)
    .map(
      (l) =>
        `lesson ${l.lessonId} (class group ${l.classGroupId}, ${l.date} period ${l.period}, ${l.status === "conducted" ? "conducted" : "moved there"})`,
    )
    .join(", ");
  const more = held.length > 5 ? ` and ${held.length - 5} more` : "";
  throw refused(
    "first_day",
    `${held.length} lesson${held.length === 1 ? " was" : "s were"} moved onto or conducted on ${days.firstDay} - ${days.lastDay}: ${named}${more}; move or cancel the moved ones first (MoveLesson, CancelLesson); a conducted lesson took place, so its day was a school day`,
  );
}
