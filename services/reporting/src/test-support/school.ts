import { randomUUID } from "node:crypto";
import { TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { type FeedEvent, feedEvent } from "./feed.js";

/*
 * A school term as identity, curriculum and grades announce it, hand-computed in
 * projection.int.test.ts: class group 5А with pupils p1..p8 (p6 withdrawn, p7 transferred to
 * 5Б on 2026-10-01, before term 1 ends), maths (five-point) and PE (pass/fail).
 */
type Pupil = "p1" | "p2" | "p3" | "p4" | "p5" | "p6" | "p7" | "p8" | "p9";
const at = (day: string) => new Date(`${day}T08:00:00Z`);
const YEAR = { startYear: 2026 };

export function schoolFixture() {
  const id = () => randomUUID();
  const municipalityId = id();
  const schoolId = id();
  const cg = id();
  const cg2 = id();
  const math = `math-${id()}`;
  const pe = `pe-${id()}`;
  const p = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i + 1}`, id()])) as Record<
    Pupil,
    string
  >;
  const guardian = id();
  const teacher = id();
  const L = { l1: id(), l2: id(), l3: id(), l4: id() };
  const journalMath = {
    journalId: id(),
    schoolId,
    municipalityId,
    academicYear: YEAR,
    classGroupId: cg,
    subgroupId: "",
    subjectId: math,
  };
  const journalPe = { ...journalMath, journalId: id(), subjectId: pe };
  const where = { schoolId, municipalityId };
  const events: FeedEvent[] = [];
  const i = (stream: string, name: string, v: Record<string, unknown>, day = "2026-08-25") =>
    events.push(feedEvent("identity", stream, name, { ...where, ...v }, at(day)));
  const c = (stream: string, name: string, v: Record<string, unknown>, day = "2026-08-25") =>
    events.push(feedEvent("curriculum", stream, name, { ...where, ...v }, at(day)));
  const g = (journal: typeof journalMath, name: string, v: Record<string, unknown>, day: string) =>
    events.push(feedEvent("grades", journal.journalId, name, { ...where, journal, ...v }, at(day)));

  // Names as a ministry officer reads them in the statutory export.
  const names = {
    municipality: "Копейский городской округ",
    school: "МОУ «СОШ № 7»",
    math: "Математика",
    pe: "Физическая культура",
  };
  i(municipalityId, "MunicipalityRegistered", { name: names.municipality });
  i(schoolId, "SchoolRegistered", { name: names.school, timeZone: "Asia/Yekaterinburg" });
  i(cg, "ClassGroupOpened", { classGroupId: cg, academicYear: YEAR, gradeLevel: 5, letter: "А" });
  i(cg2, "ClassGroupOpened", { classGroupId: cg2, academicYear: YEAR, gradeLevel: 5, letter: "Б" });
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
    i(p[`p${n}` as Pupil], "StudentEnrolled", {
      personId: p[`p${n}` as Pupil],
      classGroupId: cg,
      academicYear: YEAR,
      gradeLevel: 5,
      effectiveDate: "2026-09-01",
    });
  }
  i(p.p9, "StudentEnrolled", {
    personId: p.p9,
    classGroupId: cg2,
    academicYear: YEAR,
    gradeLevel: 5,
    effectiveDate: "2026-09-01",
  });
  i(p.p1, "GuardianLinked", { personId: p.p1, guardianId: guardian });
  c(`subject-${math}`, "SubjectAdded", {
    subjectId: math,
    code: "MATH",
    name: names.math,
    grading: 1,
    schoolId: "",
    municipalityId: "",
  });
  c(`subject-${pe}`, "SubjectAdded", {
    subjectId: pe,
    code: "PE",
    name: names.pe,
    grading: 2,
    schoolId: "",
    municipalityId: "",
  });
  c(`timetable-${schoolId}`, "TeacherAssigned", {
    assignmentId: id(),
    academicYear: YEAR,
    teacherId: teacher,
    subjectId: math,
    classGroupId: cg,
    subgroupId: "",
  });
  const programme = `programme-${schoolId}-2026-5-${math}`;
  const programmeRef = {
    programmeId: programme,
    academicYear: YEAR,
    subjectId: math,
    gradeLevel: 5,
  };
  c(programme, "WorkProgrammeDrafted", {
    ...programmeRef,
    version: 1,
    items: [
      { itemId: "v1.1", topic: "Fractions", hours: 1 },
      { itemId: "v1.2", topic: "Decimals", hours: 1 },
      { itemId: "v1.3", topic: "Percent", hours: 30 },
    ],
    authorId: teacher,
  });
  c(programme, "WorkProgrammeApproved", { ...programmeRef, version: 1, approvedBy: "admin" });
  c(`terms-${schoolId}`, "TermSystemDefined", {
    academicYear: YEAR,
    gradeLevels: [5],
    kind: TermKind.TERM_KIND_HALF_YEAR,
    terms: [
      { number: 1, firstDay: "2026-09-01", lastDay: "2026-10-26" },
      { number: 2, firstDay: "2026-11-05", lastDay: "2026-12-28" },
    ],
  });
  const lesson = (lessonId: string, subjectId: string, date: string, period: number) =>
    c(lessonId, "LessonScheduled", {
      lessonId,
      academicYear: YEAR,
      classGroupId: cg,
      subgroupId: "",
      subjectId,
      teacherId: teacher,
      date,
      period,
      term: 1,
    });
  lesson(L.l1, math, "2026-09-07", 1);
  lesson(L.l4, pe, "2026-09-07", 2);
  lesson(L.l2, math, "2026-09-08", 1);
  lesson(L.l3, math, "2026-09-09", 1);
  const lessonRef = (lessonId: string, subjectId: string, date: string) => ({
    lessonId,
    academicYear: YEAR,
    classGroupId: cg,
    subgroupId: "",
    subjectId,
    date,
    period: 1,
  });
  c(
    L.l1,
    "LessonConducted",
    {
      ...lessonRef(L.l1, math, "2026-09-07"),
      topic: "Fractions",
      homework: "No. 12",
      workProgrammeItemId: "v1.1",
    },
    "2026-09-07",
  );
  c(
    L.l2,
    "LessonConducted",
    // A topic outside the work programme: fills the journal, delivers nothing of the programme.
    { ...lessonRef(L.l2, math, "2026-09-08"), topic: "Decimals" },
    "2026-09-11",
  );
  c(
    L.l3,
    "LessonCancelled",
    { ...lessonRef(L.l3, math, "2026-09-09"), reason: "holiday" },
    "2026-09-09",
  );

  const V: Record<string, number> = {
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "5": 5,
    PASS: 6,
    FAIL: 7,
    NOT_ATTESTED: 8,
  };
  const markIds: Record<string, string> = {};
  const mark = (
    key: string,
    journal: typeof journalMath,
    lessonId: string,
    date: string,
    student: string,
    value: string,
    weight = 1,
  ) => {
    markIds[key] = id();
    g(
      journal,
      "MarkRecorded",
      {
        markId: markIds[key],
        lessonId,
        lessonDate: date,
        term: 1,
        studentId: p[student as Pupil],
        value: V[value],
        workType: "ORAL",
        weight,
        authorId: "t",
      },
      date,
    );
  };
  mark("p1a", journalMath, L.l1, "2026-09-07", "p1", "5");
  mark("p1b", journalMath, L.l2, "2026-09-08", "p1", "5", 2);
  mark("p2a", journalMath, L.l1, "2026-09-07", "p2", "4");
  mark("p2b", journalMath, L.l2, "2026-09-08", "p2", "5");
  mark("p3a", journalMath, L.l1, "2026-09-07", "p3", "4", 2);
  mark("p4a", journalMath, L.l1, "2026-09-07", "p4", "3");
  mark("p4b", journalMath, L.l2, "2026-09-08", "p4", "PASS");
  mark("p5a", journalMath, L.l1, "2026-09-07", "p5", "2");
  mark("p6a", journalMath, L.l1, "2026-09-07", "p6", "5");
  mark("p7a", journalMath, L.l1, "2026-09-07", "p7", "2");
  mark("p8a", journalMath, L.l2, "2026-09-08", "p8", "NOT_ATTESTED");
  mark("pe1", journalPe, L.l4, "2026-09-07", "p1", "PASS");
  mark("pe2", journalPe, L.l4, "2026-09-07", "p2", "FAIL");
  g(
    journalPe,
    "ExemptionGranted",
    {
      exemptionId: id(),
      studentId: p.p3,
      firstDay: "2026-09-01",
      lastDay: "2026-10-26",
      reason: "medical",
      authorId: "t",
    },
    "2026-09-02",
  );
  g(
    journalMath,
    "AttendanceRecorded",
    {
      lessonId: L.l1,
      lessonDate: "2026-09-07",
      term: 1,
      entries: [
        { studentId: p.p1, reason: 2 },
        { studentId: p.p2, reason: 1, lateMinutes: 5 },
      ],
      authorId: "t",
    },
    "2026-09-07",
  );
  g(
    journalPe,
    "AttendanceRecorded",
    {
      lessonId: L.l4,
      lessonDate: "2026-09-07",
      term: 1,
      entries: [{ studentId: p.p1, reason: 2 }],
      authorId: "t",
    },
    "2026-09-07",
  );
  g(
    journalMath,
    "AttendanceRecorded",
    { lessonId: L.l2, lessonDate: "2026-09-08", term: 1, entries: [], authorId: "t" },
    "2026-09-08",
  );
  i(
    p.p6,
    "StudentWithdrawn",
    { personId: p.p6, classGroupId: cg, effectiveDate: "2026-10-01" },
    "2026-10-01",
  );
  i(
    p.p7,
    "StudentTransferred",
    {
      personId: p.p7,
      fromClassGroupId: cg,
      fromSchoolId: schoolId,
      fromMunicipalityId: municipalityId,
      toClassGroupId: cg2,
      academicYear: YEAR,
      gradeLevel: 5,
      effectiveDate: "2026-10-01",
    },
    "2026-10-01",
  );
  const termMark = (student: string, value: string) =>
    g(
      journalMath,
      "TermMarkSet",
      { studentId: p[student as Pupil], term: 1, value: V[value], authorId: "t" },
      "2026-10-26",
    );
  termMark("p1", "5");
  termMark("p2", "4");
  termMark("p3", "4");
  termMark("p4", "3");
  termMark("p5", "2");
  termMark("p8", "NOT_ATTESTED");

  const later = {
    correctP5: () =>
      feedEvent(
        "grades",
        journalMath.journalId,
        "MarkCorrected",
        {
          ...where,
          journal: journalMath,
          markId: markIds.p5a,
          studentId: p.p5,
          value: 4,
          reason: "typo",
          authorId: "t",
        },
        at("2026-09-10"),
      ),
    revokeP2: () =>
      feedEvent(
        "grades",
        journalMath.journalId,
        "MarkRevoked",
        {
          ...where,
          journal: journalMath,
          markId: markIds.p2b,
          studentId: p.p2,
          reason: "wrong pupil",
          authorId: "t",
        },
        at("2026-09-10"),
      ),
  };
  return {
    municipalityId,
    schoolId,
    names,
    cg,
    cg2,
    math,
    pe,
    p,
    guardian,
    teacher,
    L,
    journalMath,
    events,
    later,
  };
}

export type SchoolFixture = ReturnType<typeof schoolFixture>;
