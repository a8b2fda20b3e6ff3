import type { NewEvent } from "@otmetka/eventstore";
import { refused } from "./errors.js";
import { type ClaimHolder, claimKey, teacherClaim, type WantedClaim } from "./lesson-claims.js";
import { type Lesson, type LessonsState, teacherChanged } from "./lessons.js";
import { type TimetableState, teacherOn } from "./timetable.js";

/*
 * Handing a class group's lessons over when the timetable changes who teaches them (a
 * substitution assigned), in the command that changes it: waiting for the next generation
 * left the covered lessons with the absent teacher, who kept their claims, and the substitute
 * could not record them.
 */

/** A scheduled lesson and the teacher who teaches it now. */
export interface Handover {
  lesson: Lesson;
  teacherId: string;
}

/**
 * The lessons of a class group that a timetable change (`before` → `after`) gives another
 * teacher: scheduled lessons whose slot's teacher on the lesson's date (`teacherOn`, which
 * generation and a move ask too) the change alters. A moved lesson counts on the date it
 * moved to, as a move hands a lesson to the teacher of its new date. Conducted lessons keep
 * their teacher (what happened is recorded, with who taught it), cancelled and unscheduled
 * ones hold nobody. Dates before today count as well: a substitution entered late (the
 * teacher fell ill on Monday, the admin enters it on Wednesday) hands Monday's lesson, still
 * unrecorded, to the substitute who taught it; a regeneration would hand it over anyway.
 */
export function handoversOf(
  before: TimetableState,
  after: TimetableState,
  lessons: LessonsState,
): Handover[] {
  const out: Handover[] = [];
  for (const lesson of lessons.lessons.values()) {
    if (lesson.status !== "scheduled") continue;
    const slot = after.slots.get(lesson.slotId);
    if (!slot) continue;
    const teacherId = teacherOn(after, slot, lesson.date);
    if (teacherId === lesson.teacherId || teacherId === teacherOn(before, slot, lesson.date))
      continue;
    out.push({ lesson, teacherId });
  }
  return out.sort(
    (a, b) => a.lesson.date.localeCompare(b.lesson.date) || a.lesson.period - b.lesson.period,
  );
}

/** The claims the handovers take: each new teacher in its lesson's date and period. */
export const handoverClaims = (handovers: readonly Handover[]): WantedClaim[] =>
  handovers.map(({ lesson, teacherId }) => ({
    date: lesson.date,
    period: lesson.period,
    claim: teacherClaim(teacherId),
  }));

/**
 * `LessonTeacherChanged` for every handover, or a refusal of them all (`field`, naming the
 * date, the period and the lesson that holds the new teacher then) when another lesson holds
 * the new teacher in a lesson's period (`held`: lesson_claims, by claimKey). All or nothing:
 * a substitution that hands over some lessons and leaves others with the absent teacher is
 * the state it is meant to end; the admin frees the period (moves or cancels one of the two
 * lessons) or shortens the substitution, and assigns it again.
 */
export function handOver(
  handovers: readonly Handover[],
  held: ReadonlyMap<string, ClaimHolder>,
  field: string,
): NewEvent[] {
  const taken = new Map(held);
  return handovers.map(({ lesson, teacherId }) => {
    const key = claimKey(lesson.date, lesson.period, teacherClaim(teacherId));
    const holder = taken.get(key);
    if (holder && holder.lessonId !== lesson.lessonId)
      throw refused(
        field,
        `teacher ${teacherId} already teaches lesson ${holder.lessonId} (class group ${holder.classGroupId}) on ${lesson.date} period ${lesson.period}, when they would take lesson ${lesson.lessonId} (${lesson.subjectId}, class group ${lesson.classGroupId})`,
      );
    taken.set(key, { lessonId: lesson.lessonId, classGroupId: lesson.classGroupId });
    return teacherChanged(lesson, teacherId);
  });
}
