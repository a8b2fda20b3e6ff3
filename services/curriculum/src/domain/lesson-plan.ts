import { type CivilDate, isoWeekday } from "@otmetka/service-kit";
import type { SchoolDay } from "./calendar.js";
import type { WantedLesson } from "./lessons.js";
import { type TimetableState, teacherOn } from "./timetable.js";

/**
 * The lessons a class group's timetable asks for: each of its slots on every school day of
 * the slot's weekday inside the slot's validity, taught by the assigned teacher or the
 * substitute covering that date. School days already exclude weekends and holidays.
 */
export function wantedLessons(
  timetable: TimetableState,
  classGroupId: string,
  days: readonly SchoolDay[],
): WantedLesson[] {
  const byWeekday = new Map<number, SchoolDay[]>();
  for (const d of days) {
    const w = isoWeekday(d.date);
    byWeekday.set(w, [...(byWeekday.get(w) ?? []), d]);
  }
  const wanted: WantedLesson[] = [];
  for (const slot of timetable.slots.values()) {
    if (slot.classGroupId !== classGroupId) continue;
    for (const day of byWeekday.get(slot.weekday) ?? []) {
      if (day.date < slot.validFrom || day.date > slot.validTo) continue;
      wanted.push({
        slotId: slot.slotId,
        date: day.date,
        term: day.term,
        period: slot.period,
        subgroupId: slot.subgroupId,
        subjectId: slot.subjectId,
        teacherId: teacherOn(timetable, slot, day.date),
        room: slot.room,
      });
    }
  }
  return wanted.sort((a, b) => a.date.localeCompare(b.date) || a.period - b.period);
}

/** Class groups that have slots, with their grade level (for the term system). */
export function timetabledClassGroups(timetable: TimetableState): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of timetable.slots.values()) out.set(s.classGroupId, s.gradeLevel);
  return out;
}

export const dayTerms = (days: readonly SchoolDay[]): Map<CivilDate, number> =>
  new Map(days.map((d) => [d.date, d.term]));
