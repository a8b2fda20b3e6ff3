import { randomUUID } from "node:crypto";
import { TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { curriculumEvent, identityEvent, publishFeed } from "../test-support/feed.js";
import { eventually, type Harness, startHarness } from "../test-support/harness.js";

const env = useTestEnvironment({ label: "grades_facts" });
let h: Harness;

beforeAll(async () => {
  h = await startHarness(env);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

it("keeps enrollments, transfers, subgroup membership and lesson changes by date", async () => {
  const at = { schoolId: randomUUID(), municipalityId: randomUUID() };
  const [a, b, sg, pupil, lesson, teacher, conductor] = [
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
  ];
  const year = { startYear: 2026 };
  const lessonFacts = {
    lessonId: lesson,
    ...at,
    academicYear: year,
    classGroupId: a,
    subgroupId: "",
    subjectId: "MATH",
    teacherId: teacher,
    date: "2026-09-10",
    period: 2,
  };
  await publishFeed(h.nc, h.names, [
    identityEvent(`school-${at.schoolId}`, "SchoolRegistered", {
      ...at,
      timeZone: "Europe/Moscow",
    }),
    identityEvent(`cg-${a}`, "ClassGroupOpened", {
      classGroupId: a,
      ...at,
      academicYear: year,
      gradeLevel: 7,
      letter: "А",
    }),
    identityEvent(`cg-${b}`, "ClassGroupOpened", {
      classGroupId: b,
      ...at,
      academicYear: year,
      gradeLevel: 7,
      letter: "Б",
    }),
    identityEvent(`sg-${sg}`, "SubgroupOpened", {
      subgroupId: sg,
      classGroupId: a,
      ...at,
      subjectId: "ENG",
      name: "1",
    }),
    identityEvent(`person-${pupil}`, "StudentEnrolled", {
      personId: pupil,
      classGroupId: a,
      ...at,
      academicYear: year,
      gradeLevel: 7,
      effectiveDate: "2026-09-01",
    }),
    identityEvent(`sg-${sg}`, "SubgroupMemberAdded", {
      subgroupId: sg,
      personId: pupil,
      ...at,
      effectiveDate: "2026-09-01",
    }),
    identityEvent(`sg-${sg}`, "SubgroupMemberRemoved", {
      subgroupId: sg,
      personId: pupil,
      ...at,
      effectiveDate: "2026-09-20",
    }),
    identityEvent(`person-${pupil}`, "StudentTransferred", {
      personId: pupil,
      fromClassGroupId: a,
      fromSchoolId: at.schoolId,
      fromMunicipalityId: at.municipalityId,
      toClassGroupId: b,
      ...at,
      academicYear: year,
      gradeLevel: 7,
      effectiveDate: "2026-10-01",
    }),
    curriculumEvent(`lessons-${a}-2026`, "LessonScheduled", {
      ...lessonFacts,
      slotId: randomUUID(),
      term: 1,
      room: "1",
    }),
    curriculumEvent(`lessons-${a}-2026`, "LessonMoved", {
      ...lessonFacts,
      toDate: "2026-09-12",
      toPeriod: 3,
      toTerm: 1,
    }),
    curriculumEvent(`lessons-${a}-2026`, "LessonConducted", {
      ...lessonFacts,
      date: "2026-09-12",
      topic: "Дроби",
      conductedBy: conductor,
    }),
  ]);
  const enrolled = async (classGroupId: string, subgroupId: string, date: string) =>
    (
      await h.deps.facts.commandFacts({
        journal: { classGroupId, subgroupId, subjectId: "MATH", startYear: 2026 },
        studentIds: [pupil],
        date,
      })
    ).students.get(pupil);
  await eventually(async () =>
    expect(await enrolled(b, "", "2026-10-01")).toEqual({ known: true, enrolled: true }),
  );
  expect((await enrolled(a, "", "2026-09-30"))?.enrolled).toBe(true);
  expect((await enrolled(a, "", "2026-10-01"))?.enrolled).toBe(false);
  expect((await enrolled(b, "", "2026-09-30"))?.enrolled).toBe(false);
  expect((await enrolled(a, sg, "2026-09-19"))?.enrolled).toBe(true);
  expect((await enrolled(a, sg, "2026-09-20"))?.enrolled).toBe(false);
  await eventually(async () => {
    const f = await h.deps.facts.commandFacts({
      journal: { classGroupId: a, subgroupId: "", subjectId: "MATH", startYear: 2026 },
      studentIds: [],
      lessonId: lesson,
    });
    expect(f.lesson).toMatchObject({ date: "2026-09-12", status: "CONDUCTED", term: 1 });
    // The conductor is kept beside the lesson's teacher (both may write on it).
    expect(f.lesson).toMatchObject({ teacherId: teacher, conductedBy: conductor });
    expect(f.classGroup).toMatchObject({
      schoolId: at.schoolId,
      timeZone: "Europe/Moscow",
      startYear: 2026,
    });
  });
});

it("keeps a grade level's term dates (a later term system replaces the earlier one) and the school year's days", async () => {
  const at = { schoolId: randomUUID(), municipalityId: randomUUID() };
  const [cg5, cg6, cg7] = [randomUUID(), randomUUID(), randomUUID()];
  const academicYear = { startYear: 2026 };
  const system = (gradeLevels: number[], terms: [string, string][]) =>
    curriculumEvent(`calendar-${at.schoolId}-2026`, "TermSystemDefined", {
      ...at,
      academicYear,
      gradeLevels,
      kind: TermKind.TERM_KIND_HALF_YEAR,
      terms: terms.map(([firstDay, lastDay], i) => ({ number: i + 1, firstDay, lastDay })),
    });
  const opened = (classGroupId: string, gradeLevel: number) =>
    identityEvent(`cg-${classGroupId}`, "ClassGroupOpened", {
      classGroupId,
      ...at,
      academicYear,
      gradeLevel,
      letter: "А",
    });
  await publishFeed(h.nc, h.names, [
    opened(cg5, 5),
    opened(cg6, 6),
    opened(cg7, 7),
    system(
      [5, 6],
      [
        ["2026-09-01", "2026-12-31"],
        ["2027-01-01", "2027-05-31"],
      ],
    ),
    system(
      [5],
      [
        ["2026-09-01", "2026-11-30"],
        ["2026-12-01", "2027-02-28"],
        ["2027-03-01", "2027-05-31"],
      ],
    ),
  ]);
  const year = { firstDay: "2026-09-01", lastDay: "2027-05-31" };
  await eventually(async () =>
    expect(await h.deps.facts.calendar(cg5, 2026)).toEqual({
      terms: [
        { term: 1, firstDay: "2026-09-01", lastDay: "2026-11-30" },
        { term: 2, firstDay: "2026-12-01", lastDay: "2027-02-28" },
        { term: 3, firstDay: "2027-03-01", lastDay: "2027-05-31" },
      ],
      year,
    }),
  );
  const c6 = await h.deps.facts.calendar(cg6, 2026);
  expect([c6.terms.map((t) => t.lastDay), c6.year]).toEqual([["2026-12-31", "2027-05-31"], year]);
  // A grade level without a term system: no terms, but the school year is the school's.
  expect(await h.deps.facts.calendar(cg7, 2026)).toEqual({ terms: [], year });
  expect(await h.deps.facts.calendar(cg5, 2027)).toEqual({ terms: [], year: null });
});
