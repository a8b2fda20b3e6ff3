import { payloadHash } from "@otmetka/eventstore";
import { journalStreamId } from "@otmetka/proto/journal-stream";
import {
  addDays,
  type CivilDate,
  civilDateIn,
  formatAcademicYear,
  hasRole,
  requireRole,
} from "@otmetka/service-kit";
import { invalidInput, notReplicatedYet } from "../domain/errors.js";
import type { JournalRefJson } from "../domain/events.js";
import type { Actor, Enrollment, JournalInfo, LessonFact } from "../domain/journal-commands.js";
import type { CommandFacts, FactsQuery, JournalKey } from "../projections/facts-queries.js";
import type { Call, GradesDeps } from "./deps.js";
import { commandIdReused } from "./recorded-meanwhile.js";

const DEFAULT_ZONE = "Asia/Yekaterinburg";

/** A journal as a request names it (proto `Journal`). */
export interface JournalInput {
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  academicYear?: { startYear: number } | undefined;
}

export function journalKey(j: JournalInput | undefined): JournalKey {
  if (!j) throw invalidInput("journal", "is required");
  if (j.classGroupId.trim() === "") throw invalidInput("journal.class_group_id", "is required");
  if (j.subjectId.trim() === "") throw invalidInput("journal.subject_id", "is required");
  const startYear = j.academicYear?.startYear ?? 0;
  if (!Number.isInteger(startYear) || startYear < 2000 || startYear > 2100)
    throw invalidInput("journal.academic_year", "must be a start year such as 2026");
  return {
    classGroupId: j.classGroupId,
    subgroupId: j.subgroupId,
    subjectId: j.subjectId,
    startYear,
  };
}

/** One stream per journal: class group or subgroup x subject x academic year. */
export { journalStreamId };

/**
 * A subgroup journal's subgroup must be of its class group (the stream is named by the
 * subgroup alone, so another class group's subgroup would be another school's journal) and of
 * its subject.
 */
export function checkSubgroup(
  k: JournalKey,
  f: Pick<CommandFacts, "subgroupClassGroupId" | "subgroupSubjectId">,
): void {
  if (k.subgroupId === "") return;
  if (!f.subgroupClassGroupId)
    throw notReplicatedYet("journal.subgroup_id", "subgroup", k.subgroupId);
  if (f.subgroupClassGroupId !== k.classGroupId)
    throw invalidInput(
      "journal.subgroup_id",
      `subgroup ${k.subgroupId} is not of class group ${k.classGroupId}`,
    );
  // A subgroup is formed for one subject: a journal of another subject under it would be a
  // second journal (marks, term marks) of that subject for its members.
  if (f.subgroupSubjectId !== k.subjectId)
    throw invalidInput(
      "journal.subgroup_id",
      `subgroup ${k.subgroupId} is for subject ${f.subgroupSubjectId}, not ${k.subjectId}`,
    );
}

/** What a journal command knows after reading the replicas and checking the caller. */
export interface JournalContext {
  streamId: string;
  journal: JournalInfo;
  actor: Actor;
  today: CivilDate;
  lesson?: LessonFact;
  enrollment(studentId: string, field: string): Enrollment;
  weights?: Record<string, number>;
  /** The command's id and payload, as checked against an earlier run of the same id. */
  commandId: string;
  payload: unknown;
  /**
   * The actor as the command's lesson would make it (the lesson's own teacher and conductor teach
   * it on its date), for a command that reads its lesson only after the context (a correction).
   */
  actorWith(lesson: LessonOwners): Actor;
  /** Set when the command id ran before with this payload: answer it, decide nothing. */
  replay?: { result: unknown };
}

/**
 * Reads the replicas in one round trip and turns them into the journal, the actor and the
 * facts a decision needs. A fact the replicas have not seen is UNAVAILABLE (retryable);
 * a caller without a role in the journal's school is PERMISSION_DENIED.
 */
export async function journalContext(
  deps: GradesDeps,
  call: Call,
  q: Omit<FactsQuery, "actorPersonId" | "commandId"> & { commandId: string; payload: unknown },
): Promise<JournalContext> {
  if (q.commandId.trim() === "")
    throw invalidInput("command_id", "is required (a retry repeats it)");
  const f = await deps.facts.commandFacts({ ...q, actorPersonId: call.caller.personId ?? "" });
  const k = q.journal;
  const cg = f.classGroup;
  if (!cg) throw notReplicatedYet("journal.class_group_id", "class group", k.classGroupId);
  requireRole(call.caller, ["TEACHER", "SCHOOL_ADMIN", "PLATFORM_ADMIN", "SERVICE"], {
    schoolId: cg.schoolId,
  });
  if (f.command) {
    if (f.command.payloadHash !== payloadHash(q.payload)) throw commandIdReused();
    return {
      commandId: q.commandId,
      payload: q.payload,
      replay: { result: f.command.result },
    } as JournalContext;
  }
  if (cg.startYear !== k.startYear)
    throw invalidInput(
      "journal.academic_year",
      `class group ${k.classGroupId} is of ${formatAcademicYear(cg.startYear)}`,
    );
  if (!f.grading) throw notReplicatedYet("journal.subject_id", "subject", k.subjectId);
  checkSubgroup(k, f);
  if (q.lessonId && !f.lesson) throw notReplicatedYet("lesson_id", "lesson", q.lessonId);
  for (const id of q.studentIds) {
    if (!f.students.get(id)?.known) throw notReplicatedYet("student_id", "pupil", id);
  }
  const ref: JournalRefJson = {
    journalId: journalStreamId(k),
    schoolId: cg.schoolId,
    municipalityId: cg.municipalityId,
    academicYear: { startYear: k.startYear },
    classGroupId: k.classGroupId,
    subgroupId: k.subgroupId,
    subjectId: k.subjectId,
  };
  const lesson = f.lesson;
  return {
    commandId: q.commandId,
    payload: q.payload,
    streamId: ref.journalId,
    journal: { ref, grading: f.grading },
    actor: actorOf(call, cg.schoolId, f, lesson),
    actorWith: (l) => actorOf(call, cg.schoolId, f, l),
    today: civilDateIn(deps.clock.now(), cg.timeZone ?? DEFAULT_ZONE),
    ...(lesson ? { lesson } : {}),
    enrollment: (id) => (f.students.get(id)?.enrolled ? "enrolled" : "not_enrolled"),
    ...(f.weights ? { weights: f.weights } : {}),
  };
}

/** What of a lesson says who teaches it: its date, its teacher and who conducted it. */
export type LessonOwners = Pick<
  NonNullable<CommandFacts["lesson"]>,
  "date" | "teacherId" | "conductedBy"
>;

function actorOf(
  call: Call,
  schoolId: string,
  f: CommandFacts,
  lesson: LessonOwners | undefined,
): Actor {
  const c = call.caller;
  const admin =
    hasRole(c, "SCHOOL_ADMIN", { schoolId }) ||
    hasRole(c, "PLATFORM_ADMIN") ||
    hasRole(c, "SERVICE");
  const personId = c.personId;
  const teacher = personId !== undefined && hasRole(c, "TEACHER", { schoolId });
  // The lesson's own teacher and whoever conducted it teach it, on its date.
  const ownLesson =
    lesson !== undefined && (lesson.teacherId === personId || lesson.conductedBy === personId);
  // An ended assignment holds up to its last day.
  const assignedOn = (date: CivilDate) =>
    teacher &&
    (f.teachers.some(
      (t) => t.teacherId === personId && (t.lastDay === null || date <= t.lastDay),
    ) ||
      (ownLesson && lesson?.date === date) ||
      f.substitutions.some((s) => s.firstDay <= date && date <= s.lastDay));
  return {
    id: personId ?? c.accountId,
    admin,
    assignedOn,
    // An open assignment holds all year; an ended one, a substitution or a lesson ends, so the
    // first day not taught is the first day or the day after one of those ends.
    firstDayNotAssigned: (first, last) =>
      [
        first,
        ...f.teachers.flatMap((t) =>
          t.teacherId === personId && t.lastDay !== null ? [addDays(t.lastDay, 1)] : [],
        ),
        ...f.substitutions.map((s) => addDays(s.lastDay, 1)),
        ...(lesson ? [addDays(lesson.date, 1)] : []),
      ]
        .filter((d) => first <= d && d <= last)
        .sort()
        .find((d) => !assignedOn(d)),
  };
}
