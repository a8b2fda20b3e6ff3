import { describe, expect, it } from "vitest";
import {
  getClassGroups,
  getEnrollmentHistory,
  getRoster,
  getSubgroupRoster,
} from "../projections/class-group-queries.js";
import {
  cmd,
  expectRefused,
  givenClassGroup,
  givenPerson,
  givenSchool,
  useIdentity,
} from "../test-support/in-process.js";
import { enrollStudent, transferStudent } from "./enrollment.js";
import { rollOverYear } from "./rollover.js";
import { addSubgroupMember, openSubgroup, removeSubgroupMember } from "./subgroups.js";

const t = useIdentity("identity_rollover");
const y2026 = { startYear: 2026 };

const pupil = (schoolId: string) => givenPerson(t.deps, schoolId);

const group = (schoolId: string, gradeLevel: number, letter: string) =>
  givenClassGroup(t.deps, { schoolId, academicYear: y2026, gradeLevel, letter });

const enroll = (personId: string, classGroupId: string, effectiveDate = "2026-09-01") =>
  enrollStudent(t.deps, { commandId: cmd(), personId, classGroupId, effectiveDate });

describe("subgroups", () => {
  it("keeps membership over dates for pupils of the class group only", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const g = await group(schoolId, 6, "А");
    const other = await group(schoolId, 6, "Б");
    const [p1, p2, outsider] = [
      await pupil(schoolId),
      await pupil(schoolId),
      await pupil(schoolId),
    ];
    await enroll(p1, g);
    await enroll(p2, g);
    await enroll(outsider, other);
    const { subgroupId } = await openSubgroup(t.deps, {
      commandId: cmd(),
      classGroupId: g,
      subjectId: "english",
      name: "Английский, группа 1",
    });
    await addSubgroupMember(t.deps, {
      commandId: cmd(),
      subgroupId,
      personId: p1,
      effectiveDate: "2026-09-01",
    });
    await addSubgroupMember(t.deps, {
      commandId: cmd(),
      subgroupId,
      personId: p2,
      effectiveDate: "2026-10-01",
    });
    await removeSubgroupMember(t.deps, {
      commandId: cmd(),
      subgroupId,
      personId: p1,
      effectiveDate: "2026-12-01",
    });
    const pool = t.deps.store.pool;
    expect(await getSubgroupRoster(pool, subgroupId, "2026-09-15")).toEqual([p1]);
    expect(await getSubgroupRoster(pool, subgroupId, "2026-10-01")).toEqual([p1, p2].sort());
    expect(await getSubgroupRoster(pool, subgroupId, "2026-12-01")).toEqual([p2]);
    const d = t.deps;
    await expectRefused(
      d,
      () =>
        addSubgroupMember(d, {
          commandId: cmd(),
          subgroupId,
          personId: outsider,
          effectiveDate: "2026-10-01",
        }),
      "failed_precondition",
      "person_id",
    );
    await expectRefused(
      d,
      () =>
        addSubgroupMember(d, {
          commandId: cmd(),
          subgroupId,
          personId: p2,
          effectiveDate: "2026-11-01",
        }),
      "failed_precondition",
      "effective_date",
    );
    await expectRefused(
      d,
      () =>
        removeSubgroupMember(d, {
          commandId: cmd(),
          subgroupId,
          personId: p1,
          effectiveDate: "2027-01-01",
        }),
      "failed_precondition",
      "person_id",
    );
    await expectRefused(
      d,
      () => openSubgroup(d, { commandId: cmd(), classGroupId: g, subjectId: "english", name: "" }),
      "invalid_argument",
      "name",
    );
  });
});

describe("year rollover", () => {
  it("opens next year's groups (grade + 1), moves their pupils on 1 September, graduates leave", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const g5 = await group(schoolId, 5, "А");
    const g11 = await group(schoolId, 11, "Б");
    const g7 = await group(schoolId, 7, "В");
    const [fifth, senior, left] = [
      await pupil(schoolId),
      await pupil(schoolId),
      await pupil(schoolId),
    ];
    await enroll(fifth, g5);
    await enroll(senior, g11);
    await enroll(left, g7);
    await transferStudent(t.deps, {
      commandId: cmd(),
      personId: left,
      toClassGroupId: g5,
      effectiveDate: "2027-02-01",
    });

    const input = { commandId: cmd(), schoolId, academicYear: y2026 };
    const { classGroupIds, graduates } = await rollOverYear(t.deps, input);
    expect(await rollOverYear(t.deps, input)).toEqual({ classGroupIds, graduates });
    expect(graduates).toBe(1);
    const next = await getClassGroups(t.deps.store.pool, {
      classGroupIds: [],
      schoolId,
      academicYear: 2027,
    });
    expect(next.map((g) => `${g.gradeLevel}${g.letter}`)).toEqual(["6А", "8В"]);
    expect(next.map((g) => g.classGroupId).sort()).toEqual([...classGroupIds].sort());
    const old = await getClassGroups(t.deps.store.pool, {
      classGroupIds: [],
      schoolId,
      academicYear: 2026,
    });
    expect(old.every((g) => g.closed)).toBe(true);
    const g6 = next.find((g) => g.gradeLevel === 6)!.classGroupId;
    expect(await getRoster(t.deps.store.pool, g6, "2027-09-01")).toEqual([fifth, left].sort());
    expect(await getRoster(t.deps.store.pool, g5, "2027-08-31")).toEqual([fifth, left].sort());
    expect((await getEnrollmentHistory(t.deps.store.pool, senior)).at(-1)).toMatchObject({
      classGroupId: g11,
      validTo: "2027-09-01",
    });
    await expectRefused(
      t.deps,
      () => rollOverYear(t.deps, { commandId: cmd(), schoolId, academicYear: y2026 }),
      "failed_precondition",
      "academic_year",
    );
  });
});
