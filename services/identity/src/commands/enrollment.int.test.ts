import { describe, expect, it } from "vitest";
import { PersonKind } from "../domain/person.js";
import {
  getClassGroups,
  getEnrollmentHistory,
  getRoster,
} from "../projections/class-group-queries.js";
import { searchPeople } from "../projections/people-queries.js";
import {
  cmd,
  expectRefused,
  givenClassGroup,
  givenPerson,
  givenSchool,
  useIdentity,
} from "../test-support/in-process.js";
import {
  assignHomeroomTeacher,
  closeClassGroup,
  openClassGroup,
  renameClassGroup,
} from "./class-groups.js";
import { enrollStudent, transferStudent, withdrawStudent } from "./enrollment.js";
import { closeSchool } from "./organisations.js";

const t = useIdentity("identity_enrollment");
const year = { startYear: 2026 };

const person = (schoolId: string, kind = PersonKind.PERSON_KIND_STUDENT, familyName = "Котова") =>
  givenPerson(t.deps, schoolId, kind, { familyName });

const group = (schoolId: string, gradeLevel: number, letter: string, homeroomTeacherId = "") =>
  givenClassGroup(t.deps, { schoolId, academicYear: year, gradeLevel, letter, homeroomTeacherId });

describe("class groups", () => {
  it("opens, renames, assigns a homeroom teacher and closes", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const teacher = await person(schoolId, PersonKind.PERSON_KIND_STAFF);
    const id = await group(schoolId, 5, "а", teacher);
    await renameClassGroup(t.deps, {
      commandId: cmd(),
      classGroupId: id,
      gradeLevel: 5,
      letter: "Б",
    });
    await assignHomeroomTeacher(t.deps, {
      commandId: cmd(),
      classGroupId: id,
      homeroomTeacherId: "",
    });
    await closeClassGroup(t.deps, { commandId: cmd(), classGroupId: id });
    expect(
      await getClassGroups(t.deps.store.pool, { classGroupIds: [], schoolId, academicYear: 2026 }),
    ).toEqual([
      {
        classGroupId: id,
        schoolId,
        municipalityId: expect.any(String),
        academicYear: year,
        gradeLevel: 5,
        letter: "Б",
        homeroomTeacherId: "",
        closed: true,
      },
    ]);
  });

  it("lets exactly one of two concurrent openings of the same name through", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const outcomes = await Promise.allSettled([group(schoolId, 9, "Г"), group(schoolId, 9, "Г")]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ kind: "failed_precondition", field: "letter" });
  });

  it("refuses bad grade levels, letters, years, duplicates, non-staff teachers and closed schools", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const pupil = await person(schoolId);
    await group(schoolId, 7, "В");
    const d = t.deps;
    const open = (over: object) => () =>
      openClassGroup(d, {
        commandId: cmd(),
        schoolId,
        academicYear: year,
        gradeLevel: 6,
        letter: "А",
        homeroomTeacherId: "",
        ...over,
      });
    await expectRefused(d, open({ gradeLevel: 12 }), "invalid_argument", "grade_level");
    await expectRefused(d, open({ gradeLevel: 0 }), "invalid_argument", "grade_level");
    await expectRefused(d, open({ letter: "" }), "invalid_argument", "letter");
    await expectRefused(d, open({ academicYear: undefined }), "invalid_argument", "academic_year");
    await expectRefused(d, open({ gradeLevel: 7, letter: "в" }), "failed_precondition", "letter");
    await expectRefused(
      d,
      open({ homeroomTeacherId: pupil }),
      "failed_precondition",
      "homeroom_teacher_id",
    );
    await closeSchool(d, { commandId: cmd(), schoolId, closedOn: "2026-11-01" });
    await expectRefused(d, open({}), "failed_precondition", "school_id");
  });
});

describe("enrollment", () => {
  it("keeps one class group at a time, with a history and rosters at dates", async () => {
    const a = await givenSchool(t.deps);
    const b = await givenSchool(t.deps);
    const g5a = await group(a.schoolId, 5, "А");
    const g5b = await group(b.schoolId, 5, "Б");
    const pupil = await person(a.schoolId, PersonKind.PERSON_KIND_STUDENT, "Переводова");
    await enrollStudent(t.deps, {
      commandId: cmd(),
      personId: pupil,
      classGroupId: g5a,
      effectiveDate: "2026-09-01",
    });
    await expectRefused(
      t.deps,
      () =>
        enrollStudent(t.deps, {
          commandId: cmd(),
          personId: pupil,
          classGroupId: g5b,
          effectiveDate: "2026-10-01",
        }),
      "failed_precondition",
      "effective_date",
    );
    await transferStudent(t.deps, {
      commandId: cmd(),
      personId: pupil,
      toClassGroupId: g5b,
      effectiveDate: "2026-11-16",
    });
    const pool = t.deps.store.pool;
    expect(await getRoster(pool, g5a, "2026-11-15")).toEqual([pupil]);
    expect(await getRoster(pool, g5a, "2026-11-16")).toEqual([]);
    expect(await getRoster(pool, g5b, "2026-11-16")).toEqual([pupil]);
    // Staff of the new school can now find the pupil by name.
    expect(await searchPeople(t.deps, b.schoolId, "Переводова")).toEqual([pupil]);
    await withdrawStudent(t.deps, {
      commandId: cmd(),
      personId: pupil,
      effectiveDate: "2027-05-20",
    });
    expect(await getEnrollmentHistory(pool, pupil)).toEqual([
      { classGroupId: g5a, schoolId: a.schoolId, validFrom: "2026-09-01", validTo: "2026-11-16" },
      { classGroupId: g5b, schoolId: b.schoolId, validFrom: "2026-11-16", validTo: "2027-05-20" },
    ]);
    expect(await getRoster(pool, g5b, "2027-05-20")).toEqual([]);
  });

  it("refuses transfer into a closed school, unknown ids and non-students, changing nothing", async () => {
    const a = await givenSchool(t.deps);
    const b = await givenSchool(t.deps);
    const g1 = await group(a.schoolId, 1, "А");
    const g2 = await group(b.schoolId, 1, "Б");
    const pupil = await person(a.schoolId);
    const teacher = await person(a.schoolId, PersonKind.PERSON_KIND_STAFF);
    const d = t.deps;
    await enrollStudent(d, {
      commandId: cmd(),
      personId: pupil,
      classGroupId: g1,
      effectiveDate: "2026-09-01",
    });
    await closeSchool(d, { commandId: cmd(), schoolId: b.schoolId, closedOn: "2026-12-01" });
    await expectRefused(
      d,
      () =>
        transferStudent(d, {
          commandId: cmd(),
          personId: pupil,
          toClassGroupId: g2,
          effectiveDate: "2026-12-10",
        }),
      "failed_precondition",
      "to_class_group_id",
    );
    await expectRefused(
      d,
      () =>
        enrollStudent(d, {
          commandId: cmd(),
          personId: teacher,
          classGroupId: g1,
          effectiveDate: "2026-09-01",
        }),
      "failed_precondition",
      "person_id",
    );
    await expectRefused(
      d,
      () =>
        enrollStudent(d, {
          commandId: cmd(),
          personId: pupil,
          classGroupId: "0190e1b2-0000-7000-8000-000000000009",
          effectiveDate: "2026-09-01",
        }),
      "not_found",
      "class_group_id",
    );
    await expectRefused(
      d,
      () =>
        enrollStudent(d, {
          commandId: cmd(),
          personId: "0190e1b2-0000-7000-8000-000000000008",
          classGroupId: g1,
          effectiveDate: "2026-09-01",
        }),
      "not_found",
      "person_id",
    );
    await expectRefused(
      d,
      () => withdrawStudent(d, { commandId: cmd(), personId: pupil, effectiveDate: "2026-13-01" }),
      "invalid_argument",
      "effective_date",
    );
  });
});

describe("a retry of OpenClassGroup", () => {
  it("answers with the class group opened first, also once the school has closed", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const input = {
      commandId: cmd(),
      schoolId,
      academicYear: year,
      gradeLevel: 4,
      letter: "Д",
      homeroomTeacherId: "",
    };
    const first = await openClassGroup(t.deps, input);
    await closeSchool(t.deps, { commandId: cmd(), schoolId, closedOn: "2026-12-31" });
    // Before: FAILED_PRECONDITION school_id, so the client never learnt the group it had opened.
    expect(await openClassGroup(t.deps, input)).toEqual(first);
    expect(
      await getClassGroups(t.deps.store.pool, { classGroupIds: [], schoolId, academicYear: 2026 }),
    ).toHaveLength(1);
  });
});
