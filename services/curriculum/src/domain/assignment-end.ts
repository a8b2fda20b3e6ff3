import type { NewEvent } from "@otmetka/eventstore";
import { academicYearDays, type CivilDate, civilDate } from "@otmetka/service-kit";
import { invalidInput, notFound, refused } from "./errors.js";
import { newEvent } from "./events.js";
import type { Lesson } from "./lessons.js";
import { covers, type SchoolFacts, type Taught, type TimetableState } from "./timetable.js";

/*
 * Ending a teaching assignment (a teacher leaves mid-year, or hands the class to a
 * colleague). The end is refused while the timetable or the lessons still give the teacher
 * this subject and class group after the last day: nothing is ended or handed over silently,
 * the admin ends the slots (EndTimetableSlot) and regenerates, moves or cancels lessons first.
 */

export interface EndTeacherAssignmentCommand {
  kind: "EndTeacherAssignment";
  school: SchoolFacts;
  assignmentId: string;
  lastDay: string;
  /** The lessons of the assignment's class group (none when the assignment is unknown). */
  lessons: Iterable<Lesson>;
}

/** The most a refusal names; the count says how many there are. */
const NAMED = 5;

export function endTeacherAssignment(
  c: EndTeacherAssignmentCommand,
  state: TimetableState,
): NewEvent[] {
  const a = state.assignments.get(c.assignmentId);
  if (!a) throw notFound("assignment_id", "teaching assignment", c.assignmentId);
  const lastDay = civilDate("last_day", c.lastDay);
  const year = academicYearDays(c.school.startYear);
  if (lastDay < year.firstDay || lastDay > year.lastDay) {
    throw invalidInput(
      "last_day",
      `must lie inside the academic year ${year.firstDay} - ${year.lastDay}, got ${lastDay}`,
    );
  }
  if (a.lastDay !== undefined) {
    throw refused(
      "assignment_id",
      `assignment ${a.assignmentId} already ended on ${a.lastDay} (assign the teacher again for a new one)`,
    );
  }
  // Another open assignment of the teacher covering the same slot or lesson (a whole-class
  // one beside a subgroup's) keeps it theirs: this end does not take it away.
  const stillTaught = (t: Taught) =>
    covers(a, t) &&
    ![...state.assignments.values()].some(
      (o) => o.assignmentId !== a.assignmentId && o.lastDay === undefined && covers(o, t),
    );
  checkSlots(state, stillTaught, lastDay);
  checkLessons(c.lessons, a.teacherId, stillTaught, lastDay);
  return [
    newEvent("TeacherAssignmentEnded", {
      schoolId: a.schoolId,
      municipalityId: a.municipalityId,
      academicYear: a.academicYear,
      assignmentId: a.assignmentId,
      teacherId: a.teacherId,
      subjectId: a.subjectId,
      classGroupId: a.classGroupId,
      subgroupId: a.subgroupId,
      lastDay,
    }),
  ];
}

/** Slots of the assignment that still run after the last day (removed ones do not). */
function checkSlots(
  state: TimetableState,
  stillTaught: (t: Taught) => boolean,
  lastDay: CivilDate,
) {
  const running = [...state.slots.values()]
    .filter((s) => s.validFrom <= s.validTo && s.validTo > lastDay && stillTaught(s))
    .sort((x, y) => x.validFrom.localeCompare(y.validFrom) || x.slotId.localeCompare(y.slotId));
  if (running.length === 0) return;
  const named = running
    .slice(0, NAMED)
    .map(
      (s) =>
        `slot ${s.slotId} (weekday ${s.weekday} period ${s.period}, ${s.validFrom} - ${s.validTo})`,
    )
    .join(", ");
  throw refused(
    "last_day",
    `${running.length} timetable slot(s) of the assignment run past ${lastDay}: ${named}${more(running.length)}; end them first (EndTimetableSlot)`,
  );
}

/**
 * Lessons after the last day that are still the teacher's: scheduled to them (a move keeps a
 * lesson scheduled), or conducted by them, which contradicts the last day.
 */
function checkLessons(
  lessons: Iterable<Lesson>,
  teacherId: string,
  stillTaught: (t: Taught) => boolean,
  lastDay: CivilDate,
) {
  const theirs = [...lessons]
    .filter(
      (l) =>
        l.date > lastDay &&
        ((l.status === "scheduled" && l.teacherId === teacherId) ||
          (l.status === "conducted" && l.conductedBy === teacherId)) &&
        stillTaught({ ...l, teacherId }),
    )
    .sort((x, y) => x.date.localeCompare(y.date) || x.period - y.period);
  if (theirs.length === 0) return;
  const named = theirs
    .slice(0, NAMED)
    .map((l) => `lesson ${l.lessonId} (${l.date} period ${l.period}, ${l.status})`)
    .join(", ");
  throw refused(
    "last_day",
    `${theirs.length} lesson(s) of teacher ${teacherId} in this subject and class group are after ${lastDay}: ${named}${more(theirs.length)}; regenerate the lessons once the slots end (GenerateLessons), or move or cancel them`,
  );
}

const more = (n: number) => (n > NAMED ? `, and ${n - NAMED} more` : "");
