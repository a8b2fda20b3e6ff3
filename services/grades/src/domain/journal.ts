import type { Decider, NewEvent } from "@otmetka/eventstore";
import {
  academicYearDays,
  type CivilDate,
  DomainError,
  formatAcademicYear,
} from "@otmetka/service-kit";
import { invalidInput, type JournalRule, notReplicatedYet, ruleViolated } from "./errors.js";
import { type AbsenceReason, newEvent } from "./events.js";
import {
  type Actor,
  type Enrollment,
  type JournalCommand,
  type LessonFact,
  markField,
  type SchoolYear,
  type TermDates,
} from "./journal-commands.js";
import {
  evolveJournal,
  excusedByReason,
  initialJournalState,
  type JournalState,
  termMarkKey,
} from "./journal-state.js";
import { checkValue, type MarkValue, weightedAverage } from "./marks.js";

/** The journal decider: pure; every refusal is a DomainError naming the field and the rule. */
export const journalDecider: Decider<JournalState, JournalCommand> = {
  initialState: initialJournalState,
  evolve: evolveJournal,
  decide: decideJournal,
};

const denied = (rule: JournalRule, detail: string) =>
  new DomainError("permission_denied", `caller: [${rule}] ${detail}`, { field: "caller" });

function requireAuthor(actor: Actor, date: CivilDate) {
  if (actor.admin || actor.assignedOn(date)) return;
  throw denied(
    "author_not_assigned",
    `${actor.id} is neither assigned to this journal (nor its substitute) on ${date} nor a school admin`,
  );
}

/** An exemption speaks for every day of its period: the author must teach the journal on each. */
function requireAuthorThrough(actor: Actor, first: CivilDate, last: CivilDate) {
  if (actor.admin) return;
  const day = actor.firstDayNotAssigned(first, last);
  if (day === undefined) return;
  throw denied(
    "author_not_assigned",
    `${actor.id} is neither assigned to this journal (nor its substitute) on ${day}, within ${first}..${last}, nor a school admin`,
  );
}

function requireAdmin(actor: Actor, what: string) {
  if (!actor.admin)
    throw new DomainError("permission_denied", `caller: ${what} needs SCHOOL_ADMIN`, {
      field: "caller",
    });
}

/**
 * The note id of a checked reason: the command layer saves every reason about a pupil as a
 * note before deciding, so an event without one would have lost its text.
 */
function noteOf(reason: string, noteId: string): string {
  if (noteId === "") throw new Error(`a reason (${reason.length} characters) without its note`);
  return noteId;
}

/** The longest reason a change takes (the command layer saves only reasons this accepts). */
export const MAX_REASON = 500;

export function requireReason(reason: string): string {
  const r = reason.trim();
  if (r === "") throw invalidInput("reason", "is required");
  if (r.length > MAX_REASON)
    throw invalidInput("reason", `must be at most ${MAX_REASON} characters`);
  return r;
}

/**
 * A correction to the value a mark already has changes nothing: refused, so the journal and
 * the mark's history hold only real changes (checked after the caller, who may not learn it).
 */
function requireChange(value: MarkValue, current: MarkValue, what: string) {
  if (value === current)
    throw ruleViolated("value", "value_unchanged", `${what} is already ${value}`);
}

function requireEnrolled(field: string, studentId: string, enrollment: Enrollment, date: string) {
  if (enrollment !== "enrolled") {
    throw ruleViolated(
      field,
      "student_not_enrolled",
      `pupil ${studentId} is not in this journal's class group (or subgroup) on ${date}`,
    );
  }
}

function checkLessonInJournal(
  lesson: LessonFact,
  ref: { classGroupId: string; subgroupId: string; subjectId: string },
) {
  if (
    lesson.classGroupId !== ref.classGroupId ||
    lesson.subjectId !== ref.subjectId ||
    lesson.subgroupId !== ref.subgroupId
  ) {
    throw ruleViolated(
      "lesson_id",
      "lesson_not_in_journal",
      `lesson ${lesson.lessonId} belongs to another journal`,
    );
  }
}

/**
 * A lesson still on the timetable and not cancelled: one that did not happen takes no entry,
 * also none on attendance taken before it was cancelled or unscheduled.
 */
function checkLessonHeld(lesson: LessonFact) {
  if (lesson.status === "UNSCHEDULED")
    throw ruleViolated(
      "lesson_id",
      "lesson_not_in_journal",
      `lesson ${lesson.lessonId} was taken off the timetable`,
    );
  if (lesson.status === "CANCELLED")
    throw ruleViolated("lesson_id", "lesson_cancelled", `lesson ${lesson.lessonId} was cancelled`);
}

/** A lesson a journal entry may be written on: this journal's, held, not in the future. */
function checkLesson(
  lesson: LessonFact,
  c: {
    journal: { ref: { classGroupId: string; subgroupId: string; subjectId: string } };
    today: string;
  },
) {
  checkLessonInJournal(lesson, c.journal.ref);
  checkLessonHeld(lesson);
  if (lesson.date > c.today) {
    throw ruleViolated(
      "lesson_id",
      "lesson_in_future",
      `lesson ${lesson.lessonId} is on ${lesson.date}, after today (${c.today}) in the school's zone`,
    );
  }
}

function checkTermOpen(state: JournalState, term: number, field = "term") {
  if (state.closedTerms.has(term))
    throw ruleViolated(
      field,
      "term_closed",
      `term ${term} is closed; only an admin correction with a reason may change it`,
    );
}

/**
 * In a closed term only an admin may correct; returns whether the term is closed. `field` is
 * the request's: a term mark's `term`, a mark's `mark_id` (its requests have no term).
 */
function closedTermCorrection(
  state: JournalState,
  term: number,
  actor: Actor,
  field: "term" | "mark_id",
): boolean {
  if (!state.closedTerms.has(term)) return false;
  if (!actor.admin)
    throw ruleViolated(
      field,
      "term_closed",
      `term ${term} is closed; only a school admin may correct it, with a reason`,
    );
  return true;
}

/**
 * An exemption over days of a closed term: only a school admin may grant it (with its
 * reason); returns whether it covers one. Terms 1-4 hold days; a closed term 0 (the year
 * mark) holds none, as it refuses no mark of a lesson in terms 1-4. A day outside every
 * term is in no closed term.
 */
function closedTermExemption(
  state: JournalState,
  period: { firstDay: CivilDate; lastDay: CivilDate },
  terms: readonly TermDates[],
  actor: Actor,
): boolean {
  let covered = false;
  for (const term of state.closedTerms) {
    if (term === 0) continue;
    const dates = terms.find((t) => t.term === term);
    // Which days a closed term holds is a fact still on its way: retry, never guess.
    if (!dates) throw notReplicatedYet("first_day", "the dates of closed term", `${term}`);
    if (period.lastDay < dates.firstDay || dates.lastDay < period.firstDay) continue;
    if (!actor.admin) {
      const field = period.firstDay >= dates.firstDay ? "first_day" : "last_day";
      throw ruleViolated(
        field,
        "term_closed",
        `term ${term} (${dates.firstDay}..${dates.lastDay}) is closed; only a school admin may grant an exemption over its days, with a reason`,
      );
    }
    covered = true;
  }
  return covered;
}

/**
 * An exemption is a fact of its journal's school year: every day of its period must be in it
 * (first to last lesson day). Until the replica knows those days, the academic year they lie
 * in (curriculum keeps a school year within 1 September..31 August) still refuses a period
 * outside it for good; one inside it waits (UNAVAILABLE), never a guess.
 */
function checkInSchoolYear(
  period: { firstDay: CivilDate; lastDay: CivilDate },
  startYear: number,
  year: SchoolYear | null,
) {
  const span = formatAcademicYear(startYear);
  const bounds = year ?? academicYearDays(startYear);
  const what = year
    ? `the school year ${span} (${bounds.firstDay}..${bounds.lastDay}, its first and last lesson days)`
    : `the academic year ${span} (${bounds.firstDay}..${bounds.lastDay})`;
  const outside = (field: string, day: CivilDate) =>
    ruleViolated(field, "outside_academic_year", `${day} is outside ${what} of this journal`);
  if (period.firstDay < bounds.firstDay || period.firstDay > bounds.lastDay)
    throw outside("first_day", period.firstDay);
  if (period.lastDay > bounds.lastDay) throw outside("last_day", period.lastDay);
  if (!year) throw notReplicatedYet("first_day", "the school year (term system) of", span);
}

/**
 * An exemption inside one the pupil already has in this journal adds no day: refused, so the
 * journal records each exempt period once (a retry with the same command id still answers).
 */
function requireNewExemption(
  state: JournalState,
  c: { studentId: string; firstDay: CivilDate; lastDay: CivilDate },
) {
  for (const [id, e] of state.exemptions) {
    if (e.studentId !== c.studentId || c.firstDay < e.firstDay || e.lastDay < c.lastDay) continue;
    throw ruleViolated(
      "student_id",
      "already_exempt",
      `pupil ${c.studentId} is already exempt over ${e.firstDay}..${e.lastDay} (exemption ${id})`,
    );
  }
}

const ABSENCE_REASONS = new Set<string>([
  "ABSENCE_REASON_NONE",
  "ABSENCE_REASON_ILLNESS",
  "ABSENCE_REASON_EXCUSED",
  "ABSENCE_REASON_UNEXCUSED",
]);

export function checkTermNumber(term: number) {
  if (!Number.isInteger(term) || term < 0 || term > 4)
    throw invalidInput("term", `must be 1-4, or 0 for the year mark, got ${term}`);
}

/**
 * A term mark, or a term closed or reopened, is a term of the journal's term system (a
 * trimester journal has no term 4) or the year (0). Until the replica knows the system, any 1-4 is taken, as before term dates
 * were replicated.
 */
function checkTermOfSystem(term: number, terms: readonly TermDates[]) {
  if (term === 0 || terms.length === 0 || terms.some((t) => t.term === term)) return;
  throw ruleViolated(
    "term",
    "no_such_term",
    `this journal's term system has terms ${terms.map((t) => t.term).join(", ")} (0: the year), not ${term}`,
  );
}

/**
 * A term mark is for a term that has begun (today in the school's zone), a year mark for a year
 * that has, and so is closing one: a term ahead is a slip of the term number (closing it would
 * also leave the term meant open). Unknown dates take any term.
 */
function checkTermBegun(term: number, terms: readonly TermDates[], today: string) {
  const firstDays = terms.filter((t) => term === 0 || t.term === term).map((t) => t.firstDay);
  const first = firstDays.sort()[0];
  if (first === undefined || first === "" || first <= today) return;
  const what = term === 0 ? "the school year" : `term ${term}`;
  throw ruleViolated(
    "term",
    "term_not_begun",
    `${what} begins on ${first}, after today (${today}) in the school's zone`,
  );
}

/**
 * The day a term mark is judged on (its pupil in the journal's class group and subgroup, its
 * author teaching the journal): the term's last day (for the year mark, the last term's), or
 * today while the term still runs. A pupil who left before the term ended, or came after it,
 * has their term mark in the class group they were in then (else one pupil had two marks for
 * one subject and term, one in each); one who left after it keeps theirs here, to be set or
 * corrected later. Null while the replica knows no dates for the term: then any day of the
 * year for the pupil and today for the author, as before they were replicated.
 */
export function termMarkRollDay(
  term: number,
  terms: readonly TermDates[],
  today: CivilDate,
): CivilDate | null {
  const last = terms
    .filter((t) => term === 0 || t.term === term)
    .map((t) => t.lastDay)
    .sort()
    .at(-1);
  if (last === undefined || last === "") return null;
  return last < today ? last : today;
}

export function decideJournal(c: JournalCommand, state: JournalState): NewEvent[] {
  const ref = c.journal.ref;
  const at = { schoolId: ref.schoolId, municipalityId: ref.municipalityId, journal: ref };
  const authorId = c.actor.id;
  switch (c.kind) {
    case "RecordMarks": {
      if (c.marks.length === 0) throw invalidInput(c.field, "must hold at least one mark");
      checkLesson(c.lesson, c);
      requireAuthor(c.actor, c.lesson.date);
      checkTermOpen(state, c.lesson.term, "lesson_id");
      // A save of a lesson's marks may give a pupil several, one per kind of work (an oral
      // answer and a test); the same pupil twice for the same work type is a slip (a double
      // click, a merged list), not two assessments: refused, naming the earlier entry.
      const seen = new Map<string, number>();
      return c.marks.map((m, i) => {
        const field = markField(c.field, i);
        const key = `${m.studentId}|${m.workType}`;
        const earlier = seen.get(key);
        if (earlier !== undefined)
          throw invalidInput(
            `${field}.student_id`,
            `pupil ${m.studentId} already has a mark of work type ${m.workType} in this call (${markField(c.field, earlier)})`,
          );
        seen.set(key, i);
        const value = checkValue(`${field}.value`, m.value, c.journal.grading);
        requireEnrolled(`${field}.student_id`, m.studentId, m.enrollment, c.lesson.date);
        // Field by field, not `...at`: V8 makes a spread-then-extend literal a slow
        // dictionary-mode object (~10 µs a mark to build and serialize in bench:grades).
        return newEvent("MarkRecorded", {
          schoolId: ref.schoolId,
          municipalityId: ref.municipalityId,
          journal: ref,
          markId: m.markId,
          lessonId: c.lesson.lessonId,
          lessonDate: c.lesson.date,
          term: c.lesson.term,
          studentId: m.studentId,
          value,
          workType: m.workType,
          weight: m.weight,
          authorId,
          noteId: m.noteId,
        });
      });
    }
    case "CorrectMark":
    case "RevokeMark": {
      const mark = state.marks.get(c.markId);
      if (!mark)
        throw new DomainError(
          "not_found",
          `mark_id: [mark_unknown] no mark ${c.markId} in this journal`,
          { field: "mark_id" },
        );
      if (mark.revoked)
        throw ruleViolated(
          "mark_id",
          "mark_revoked",
          `mark ${c.markId} was revoked; record a new mark instead`,
        );
      const reason = requireReason(c.reason);
      requireAuthor(c.actor, mark.lessonDate);
      const inClosedTerm = closedTermCorrection(state, mark.term, c.actor, "mark_id");
      if (c.kind === "RevokeMark")
        return [
          newEvent("MarkRevoked", {
            ...at,
            markId: c.markId,
            studentId: mark.studentId,
            reason: "",
            reasonNoteId: noteOf(reason, c.reasonNoteId),
            authorId,
            inClosedTerm,
          }),
        ];
      const value = checkValue("value", c.value, c.journal.grading);
      requireChange(value, mark.value, `mark ${c.markId}`);
      return [
        newEvent("MarkCorrected", {
          ...at,
          markId: c.markId,
          studentId: mark.studentId,
          value,
          reason: "",
          reasonNoteId: noteOf(reason, c.reasonNoteId),
          authorId,
          inClosedTerm,
        }),
      ];
    }
    case "GrantExemption": {
      if (c.lastDay < c.firstDay)
        throw invalidInput("last_day", `must not be before first_day ${c.firstDay}`);
      const reason = requireReason(c.reason);
      checkInSchoolYear(c, ref.academicYear.startYear, c.year);
      requireAuthorThrough(c.actor, c.firstDay, c.lastDay);
      requireEnrolled("student_id", c.studentId, c.enrollment, c.firstDay);
      if (c.notEnrolledFrom !== null && c.notEnrolledFrom <= c.lastDay)
        throw ruleViolated(
          "last_day",
          "student_not_enrolled",
          `pupil ${c.studentId} is not in this journal's class group (or subgroup) on ${c.notEnrolledFrom}, within the exemption (to ${c.lastDay})`,
        );
      const inClosedTerm = closedTermExemption(state, c, c.terms, c.actor);
      requireNewExemption(state, c);
      return [
        newEvent("ExemptionGranted", {
          ...at,
          exemptionId: c.exemptionId,
          studentId: c.studentId,
          firstDay: c.firstDay,
          lastDay: c.lastDay,
          reason: "",
          reasonNoteId: noteOf(reason, c.reasonNoteId),
          authorId,
          inClosedTerm,
        }),
      ];
    }
    case "RecordAttendance": {
      checkLesson(c.lesson, c);
      requireAuthor(c.actor, c.lesson.date);
      checkTermOpen(state, c.lesson.term, "lesson_id");
      const seen = new Set<string>();
      const taken = state.attendance.get(c.lesson.lessonId)?.entries;
      const entries = c.entries.map((e, i) => {
        const field = `absences[${i}]`;
        if (seen.has(e.studentId))
          throw invalidInput(`${field}.student_id`, `pupil ${e.studentId} is listed twice`);
        seen.add(e.studentId);
        if (!ABSENCE_REASONS.has(e.reason))
          throw invalidInput(`${field}.reason`, "must be NONE, ILLNESS, EXCUSED or UNEXCUSED");
        if (!Number.isInteger(e.lateMinutes) || e.lateMinutes < 0 || e.lateMinutes > 240)
          throw invalidInput(`${field}.late_minutes`, "must be 0-240");
        if (e.reason === "ABSENCE_REASON_NONE" && e.lateMinutes === 0)
          throw invalidInput(
            `${field}`,
            "an entry is an absence (a reason) or a late arrival (late_minutes > 0)",
          );
        // A pupil who missed the lesson did not arrive late to it: both would count them twice.
        if (e.reason !== "ABSENCE_REASON_NONE" && e.lateMinutes > 0)
          throw invalidInput(
            `${field}.late_minutes`,
            "must be 0 for an absence (a late arrival is reason NONE with late_minutes > 0)",
          );
        requireEnrolled(`${field}.student_id`, e.studentId, e.enrollment, c.lesson.date);
        // Taking attendance again does not cancel an excusal (the school admin's or class
        // teacher's, not the teacher's to undo): a pupil still absent UNEXCUSED is recorded
        // EXCUSED, so the event says what stands and consumers count it so. ILLNESS or EXCUSED
        // is the teacher's reason, excused as well; a pupil no longer absent drops the excusal.
        const excused = taken?.get(e.studentId)?.excused && e.reason === "ABSENCE_REASON_UNEXCUSED";
        return {
          studentId: e.studentId,
          reason: (excused ? "ABSENCE_REASON_EXCUSED" : e.reason) as AbsenceReason,
          lateMinutes: e.lateMinutes,
        };
      });
      return [
        newEvent("AttendanceRecorded", {
          ...at,
          lessonId: c.lesson.lessonId,
          lessonDate: c.lesson.date,
          term: c.lesson.term,
          entries,
          authorId,
        }),
      ];
    }
    case "ExcuseAbsence": {
      // Who may excuse comes first: a caller who may not learns nothing of the pupil's absence.
      // Judged on the date the attendance was taken for (as a correction on its mark's lesson
      // date), not the lesson's date now: a lesson moved since keeps its absences of that day.
      // With no attendance taken, the lesson's own date is the only one there is.
      // A lesson cancelled or unscheduled after its attendance was taken did not happen: its
      // absences are moot and stay as recorded (as RecordAttendance would refuse to retake
      // them); whether it happened is the timetable's fact, not the pupil's, so it comes first.
      const lessonId = c.lesson.lessonId;
      checkLessonInJournal(c.lesson, ref);
      checkLessonHeld(c.lesson);
      const lesson = state.attendance.get(lessonId);
      requireAuthor(c.actor, lesson?.lessonDate || c.lesson.date);
      if (!lesson)
        throw ruleViolated(
          "lesson_id",
          "attendance_not_recorded",
          `no attendance was taken for lesson ${lessonId}`,
        );
      const entry = lesson.entries.get(c.studentId);
      if (!entry || entry.reason === "ABSENCE_REASON_NONE")
        throw ruleViolated(
          "student_id",
          "not_absent",
          `pupil ${c.studentId} was not absent from lesson ${lessonId}`,
        );
      // A second excusal changes nothing: refused, so the journal records each excusal once.
      // An absence recorded for illness or as excused was excused by its reason.
      const byReason = excusedByReason(entry.reason);
      if (entry.excused || byReason)
        throw ruleViolated(
          "student_id",
          "absence_already_excused",
          `pupil ${c.studentId}'s absence from lesson ${lessonId} is already excused${byReason ? ` (recorded as ${entry.reason})` : ""}`,
        );
      checkTermOpen(state, lesson.term, "lesson_id");
      return [
        newEvent("AbsenceExcused", {
          ...at,
          lessonId,
          studentId: c.studentId,
          noteId: c.noteId,
          authorId,
        }),
      ];
    }
    case "SetTermMark": {
      checkTermNumber(c.term);
      checkTermOfSystem(c.term, c.terms);
      checkTermBegun(c.term, c.terms, c.today);
      const value = checkValue("value", c.value, c.journal.grading);
      // Judged on the term's roll day, as a correction on its mark's lesson date: a teacher
      // whose assignment ended with the term sets its marks in the days after.
      const rollDay = termMarkRollDay(c.term, c.terms, c.today);
      requireAuthor(c.actor, rollDay ?? c.today);
      requireEnrolled(
        "student_id",
        c.studentId,
        c.enrollment,
        rollDay ?? `any day of ${formatAcademicYear(ref.academicYear.startYear)}`,
      );
      // A pupil who studies the subject in a subgroup has their one term mark in its journal.
      if (c.inSubgroup !== null)
        throw ruleViolated(
          "student_id",
          "term_mark_in_subgroup",
          `pupil ${c.studentId} studies this subject in subgroup ${c.inSubgroup} on ${rollDay}: their term mark is that subgroup journal's`,
        );
      const existing = state.termMarks.get(termMarkKey(c.studentId, c.term));
      if (existing === undefined) {
        checkTermOpen(state, c.term);
        const avg = weightedAverage(termMarksOf(state, c.studentId, c.term));
        return [
          newEvent("TermMarkSet", {
            ...at,
            studentId: c.studentId,
            term: c.term,
            value,
            weightedAverage: avg,
            authorId,
          }),
        ];
      }
      if (c.reason.trim() === "") {
        throw ruleViolated(
          "term",
          "term_mark_exists",
          `pupil ${c.studentId} already has a mark for term ${c.term}; changing it is a correction and needs a reason`,
        );
      }
      const reason = requireReason(c.reason);
      const inClosedTerm = closedTermCorrection(state, c.term, c.actor, "term");
      requireChange(value, existing, `pupil ${c.studentId}'s mark for term ${c.term}`);
      return [
        newEvent("TermMarkCorrected", {
          ...at,
          studentId: c.studentId,
          term: c.term,
          value,
          reason: "",
          reasonNoteId: noteOf(reason, c.reasonNoteId),
          authorId,
          inClosedTerm,
        }),
      ];
    }
    case "CloseTerm":
    case "ReopenTerm": {
      checkTermNumber(c.term);
      requireAdmin(c.actor, c.kind === "CloseTerm" ? "closing a term" : "reopening a term");
      checkTermOfSystem(c.term, c.terms);
      if (c.kind === "CloseTerm") checkTermBegun(c.term, c.terms, c.today);
      const reason = requireReason(c.reason);
      const closed = state.closedTerms.has(c.term);
      if (c.kind === "CloseTerm") {
        if (closed) throw ruleViolated("term", "term_closed", `term ${c.term} is already closed`);
        return [newEvent("TermClosed", { ...at, term: c.term, reason, authorId })];
      }
      if (!closed) throw ruleViolated("term", "term_not_closed", `term ${c.term} is not closed`);
      return [newEvent("TermReopened", { ...at, term: c.term, reason, authorId })];
    }
  }
}

/** A pupil's live marks in a term (0 = the whole year). */
export function* termMarksOf(state: JournalState, studentId: string, term: number) {
  for (const m of state.marks.values()) {
    if (m.studentId === studentId && !m.revoked && (term === 0 || m.term === term)) yield m;
  }
}
