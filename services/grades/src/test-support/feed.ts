import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type FeedEvent as ContextFeedEvent,
  createEventFeed,
  ensureStream,
  type MessagingNames,
  publishFeedEvents,
} from "@otmetka/messaging";
import * as C from "@otmetka/proto/curriculum/events/v1/events";
import * as I from "@otmetka/proto/identity/events/v1/events";

/*
 * Publishes identity and curriculum events to the test's own streams exactly as their relays
 * would (subjects, headers, proto3 JSON made by their own codecs), without running them.
 */
export type FeedEvent = ContextFeedEvent<"identity" | "curriculum">;

const feedEvent = createEventFeed({ identity: I, curriculum: C });

export const identityEvent = (streamId: string, name: string, value: Record<string, unknown>) =>
  feedEvent("identity", streamId, name, value);
export const curriculumEvent = (streamId: string, name: string, value: Record<string, unknown>) =>
  feedEvent("curriculum", streamId, name, value);

export async function publishFeed(nc: NatsConnection, names: MessagingNames, events: FeedEvent[]) {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names.contextStream("identity"));
  await ensureStream(jsm, names.contextStream("curriculum"));
  await publishFeedEvents(nc, names, events);
}

/**
 * A school as identity and curriculum announce it: a 5th-grade class group with three pupils
 * (one withdrawn on 2026-09-20), an English subgroup, a maths teacher, an English teacher, a
 * substitute for maths over 2026-09-14..18, a pass/fail subject, quarters for grade 5 and
 * lessons on the dates below.
 */
export function schoolFixture(startYear = 2026) {
  const municipalityId = randomUUID();
  const schoolId = randomUUID();
  const classGroupId = randomUUID();
  const otherClassGroupId = randomUUID();
  const subgroupId = randomUUID();
  const pupils = { p1: randomUUID(), p2: randomUUID(), p3: randomUUID(), other: randomUUID() };
  const teachers = {
    math: randomUUID(),
    eng: randomUUID(),
    sub: randomUUID(),
    stranger: randomUUID(),
  };
  const subjects = {
    math: `MATH-${schoolId.slice(0, 8)}`,
    eng: `ENG-${schoolId.slice(0, 8)}`,
    pe: `PE-${schoolId.slice(0, 8)}`,
  };
  const at = { schoolId, municipalityId };
  const year = { startYear };
  const mathAssignment = randomUUID();
  const lessons = {
    past: randomUUID(),
    subDay: randomUUID(),
    future: randomUUID(),
    cancelled: randomUUID(),
    late: randomUUID(),
    eng: randomUUID(),
    pe: randomUUID(),
  };
  const lessonEvent = (
    lessonId: string,
    subjectId: string,
    date: string,
    teacherId: string,
    subgroup = "",
  ) =>
    curriculumEvent(`lessons-${classGroupId}-${startYear}`, "LessonScheduled", {
      lessonId,
      ...at,
      academicYear: year,
      classGroupId,
      subgroupId: subgroup,
      subjectId,
      teacherId,
      date,
      period: 1,
      slotId: randomUUID(),
      term: date < "2026-11-01" ? 1 : 2,
      room: "101",
    });
  const enrol = (personId: string, cg: string) =>
    identityEvent(`person-${personId}`, "StudentEnrolled", {
      personId,
      classGroupId: cg,
      ...at,
      academicYear: year,
      gradeLevel: 5,
      effectiveDate: "2026-09-01",
    });
  const events: FeedEvent[] = [
    identityEvent(`school-${schoolId}`, "SchoolRegistered", {
      ...at,
      name: "СОШ 7",
      timeZone: "Asia/Yekaterinburg",
    }),
    identityEvent(`cg-${classGroupId}`, "ClassGroupOpened", {
      classGroupId,
      ...at,
      academicYear: year,
      gradeLevel: 5,
      letter: "А",
    }),
    identityEvent(`cg-${otherClassGroupId}`, "ClassGroupOpened", {
      classGroupId: otherClassGroupId,
      ...at,
      academicYear: year,
      gradeLevel: 5,
      letter: "Б",
    }),
    identityEvent(`sg-${subgroupId}`, "SubgroupOpened", {
      subgroupId,
      classGroupId,
      ...at,
      subjectId: subjects.eng,
      name: "Англ. 1",
    }),
    enrol(pupils.p1, classGroupId),
    enrol(pupils.p2, classGroupId),
    enrol(pupils.p3, classGroupId),
    enrol(pupils.other, otherClassGroupId),
    identityEvent(`person-${pupils.p3}`, "StudentWithdrawn", {
      personId: pupils.p3,
      classGroupId,
      ...at,
      effectiveDate: "2026-09-20",
    }),
    identityEvent(`sg-${subgroupId}`, "SubgroupMemberAdded", {
      subgroupId,
      personId: pupils.p1,
      ...at,
      effectiveDate: "2026-09-01",
    }),
    curriculumEvent("subjects-region", "SubjectAdded", {
      subjectId: subjects.math,
      code: subjects.math,
      name: "Математика",
      grading: C.Grading.GRADING_FIVE_POINT,
    }),
    curriculumEvent("subjects-region", "SubjectAdded", {
      subjectId: subjects.eng,
      code: subjects.eng,
      name: "Английский",
      grading: C.Grading.GRADING_FIVE_POINT,
    }),
    curriculumEvent("subjects-region", "SubjectAdded", {
      subjectId: subjects.pe,
      code: subjects.pe,
      name: "Физкультура",
      grading: C.Grading.GRADING_PASS_FAIL,
    }),
    curriculumEvent(`timetable-${schoolId}-${startYear}`, "TeacherAssigned", {
      assignmentId: mathAssignment,
      ...at,
      academicYear: year,
      teacherId: teachers.math,
      subjectId: subjects.math,
      classGroupId,
      subgroupId: "",
    }),
    curriculumEvent(`timetable-${schoolId}-${startYear}`, "TeacherAssigned", {
      assignmentId: randomUUID(),
      ...at,
      academicYear: year,
      teacherId: teachers.eng,
      subjectId: subjects.eng,
      classGroupId,
      subgroupId,
    }),
    curriculumEvent(`timetable-${schoolId}-${startYear}`, "TeacherAssigned", {
      assignmentId: randomUUID(),
      ...at,
      academicYear: year,
      teacherId: teachers.math,
      subjectId: subjects.pe,
      classGroupId,
      subgroupId: "",
    }),
    curriculumEvent(`timetable-${schoolId}-${startYear}`, "SubstituteAssigned", {
      assignmentId: mathAssignment,
      ...at,
      academicYear: year,
      substituteId: teachers.sub,
      firstDay: "2026-09-14",
      lastDay: "2026-09-18",
    }),
    // Quarters; the lessons above say term 1 before 2026-11-01 and term 2 from then.
    curriculumEvent(`calendar-${schoolId}-${startYear}`, "TermSystemDefined", {
      ...at,
      academicYear: year,
      gradeLevels: [5],
      kind: C.TermKind.TERM_KIND_QUARTER,
      terms: [
        { number: 1, firstDay: "2026-09-01", lastDay: "2026-10-31" },
        { number: 2, firstDay: "2026-11-01", lastDay: "2026-12-31" },
        { number: 3, firstDay: "2027-01-01", lastDay: "2027-03-31" },
        { number: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
      ],
    }),
    lessonEvent(lessons.past, subjects.math, "2026-09-10", teachers.math),
    lessonEvent(lessons.subDay, subjects.math, "2026-09-15", teachers.sub),
    lessonEvent(lessons.future, subjects.math, "2026-10-05", teachers.math),
    lessonEvent(lessons.cancelled, subjects.math, "2026-09-11", teachers.math),
    lessonEvent(lessons.late, subjects.math, "2026-09-25", teachers.math),
    lessonEvent(lessons.eng, subjects.eng, "2026-09-10", teachers.eng, subgroupId),
    lessonEvent(lessons.pe, subjects.pe, "2026-09-10", teachers.math),
    curriculumEvent(`lessons-${classGroupId}-${startYear}`, "LessonCancelled", {
      lessonId: lessons.cancelled,
      ...at,
      academicYear: year,
      classGroupId,
      subgroupId: "",
      subjectId: subjects.math,
      teacherId: teachers.math,
      date: "2026-09-11",
      period: 1,
      reason: "карантин",
    }),
  ];
  return {
    municipalityId,
    schoolId,
    classGroupId,
    otherClassGroupId,
    subgroupId,
    pupils,
    teachers,
    subjects,
    /** The maths teacher's assignment, which the substitute covers. */
    mathAssignment,
    lessons,
    events,
    startYear,
  };
}

export type SchoolFixture = ReturnType<typeof schoolFixture>;

/** A new maths lesson of the fixture's class group in 2026/27, as curriculum's lesson events carry it. */
export const mathLesson = (f: SchoolFixture, date: string, teacherId: string, period: number) => ({
  lessonId: randomUUID(),
  schoolId: f.schoolId,
  municipalityId: f.municipalityId,
  academicYear: { startYear: 2026 },
  classGroupId: f.classGroupId,
  subgroupId: "",
  subjectId: f.subjects.math,
  teacherId,
  date,
  period,
});
