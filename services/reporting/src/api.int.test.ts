import { randomUUID } from "node:crypto";
import { Metadata, status } from "@grpc/grpc-js";
import { MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { Level, ResultBasis } from "@otmetka/proto/reporting/v1/reporting_service";
import { addDays } from "@otmetka/service-kit";
import { rejectionOf, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BATCH_ITEMS } from "./api/batch-limit.js";
import { today } from "./api/mapping.js";
import { feedEvent } from "./test-support/feed.js";
import { type ApiHarness, startApi } from "./test-support/grpc.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { dashboardQuery } from "./test-support/requests.js";
import type { SchoolFixture } from "./test-support/school.js";

/* The gRPC API over the fixture school: batch queries, scopes from verified tokens. */
const env = useTestEnvironment({ label: "reporting_api" });
let h: Harness;
let api: ApiHarness;
let f: SchoolFixture;

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
  api = await startApi(h.db);
});

afterAll(async () => {
  await api?.close();
  await h?.close();
});

const YEAR = { startYear: 2026 };

describe("diaries", () => {
  it("a guardian reads their child's diary and gets an item error for another pupil", async () => {
    const md = await api.as(["GUARDIAN"], f.guardian);
    const r = await api.client.getDiaries(
      { studentIds: [f.p.p1, f.p.p2], from: "2026-09-01", to: "2026-09-30" },
      md,
    );
    expect(r.results[0]?.diary?.marks.map((m) => m.value)).toEqual([
      MarkValue.MARK_VALUE_FIVE,
      MarkValue.MARK_VALUE_PASS,
      MarkValue.MARK_VALUE_FIVE,
    ]);
    expect(r.results[0]?.diary?.lessons[0]?.topic).toBe("Fractions");
    expect(r.results[1]?.error).toMatchObject({ code: "PERMISSION_DENIED" });
    expect(r.results[1]?.error?.message).toMatch(/studentIds\[1\]/);
  });

  it("a pupil reads only their own diary", async () => {
    const md = await api.as(["STUDENT"], f.p.p2);
    const r = await api.client.getDiaries(
      { studentIds: [f.p.p2, f.p.p1], from: "2026-09-01", to: "2026-09-30" },
      md,
    );
    expect(r.results[0]?.diary?.averages).toContainEqual(
      expect.objectContaining({ subjectId: f.math, weightedAverage: "4.50", roundedMark: 5 }),
    );
    expect(r.results[1]?.error?.code).toBe("PERMISSION_DENIED");
  });

  it("a teacher of the school reads any pupil's diary there; a teacher elsewhere does not", async () => {
    const here = await api.as([`TEACHER@school:${f.schoolId}`], "t1");
    const there = await api.as(["TEACHER@school:another"], "t2");
    const q = { studentIds: [f.p.p3], from: "2026-09-01", to: "2026-09-30" };
    expect((await api.client.getDiaries(q, here)).results[0]?.diary).toBeDefined();
    expect((await api.client.getDiaries(q, there)).results[0]?.error?.code).toBe(
      "PERMISSION_DENIED",
    );
  });

  it("refuses a call without a token", async () => {
    const err = await rejectionOf<{ code: number }>(
      api.client.getDiaries(
        { studentIds: [f.p.p1], from: "2026-09-01", to: "2026-09-30" },
        new Metadata(),
      ),
    );
    expect(err.code).toBe(status.UNAUTHENTICATED);
  });
});

describe("batch limits", () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `pupil-${i}`);

  it(`GetDiaries refuses more than ${MAX_BATCH_ITEMS} pupils whole, naming studentIds and the limit; ${MAX_BATCH_ITEMS} are answered`, async () => {
    const md = await api.as(["MINISTRY_OFFICER@region:74"], "x");
    const q = { from: "2026-09-01", to: "2026-09-30" };
    const err = await rejectionOf<{ code: number; details: string }>(
      api.client.getDiaries({ ...q, studentIds: [f.p.p1, ...ids(MAX_BATCH_ITEMS)] }, md),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe(
      `studentIds: at most ${MAX_BATCH_ITEMS} items a call, got ${MAX_BATCH_ITEMS + 1}`,
    );
    const r = await api.client.getDiaries(
      { ...q, studentIds: [f.p.p1, ...ids(MAX_BATCH_ITEMS - 1)] },
      md,
    );
    expect(r.results).toHaveLength(MAX_BATCH_ITEMS);
    expect(r.results[0]?.diary?.marks).toHaveLength(3);
  });

  it(`GetDashboards refuses more than ${MAX_BATCH_ITEMS} queries whole, naming queries and the limit; ${MAX_BATCH_ITEMS} are answered`, async () => {
    const md = await api.as(["MINISTRY_OFFICER@region:74"], "x");
    const query = dashboardQuery({ level: Level.LEVEL_REGION, scopeId: "", year: true });
    const err = await rejectionOf<{ code: number; details: string }>(
      api.client.getDashboards({ queries: Array(MAX_BATCH_ITEMS + 1).fill(query) }, md),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe(
      `queries: at most ${MAX_BATCH_ITEMS} items a call, got ${MAX_BATCH_ITEMS + 1}`,
    );
    const r = await api.client.getDashboards({ queries: Array(MAX_BATCH_ITEMS).fill(query) }, md);
    expect(r.results).toHaveLength(MAX_BATCH_ITEMS);
    expect(r.results.every((x) => x.dashboard?.performance !== undefined)).toBe(true);
  });
});

describe("journal view", () => {
  it("serves the school's teacher and refuses a guardian", async () => {
    const req = {
      classGroupId: f.cg,
      subgroupId: "",
      subjectId: f.math,
      academicYear: YEAR,
      term: 1,
    };
    const v = await api.client.getJournalView(
      req,
      await api.as([`TEACHER@school:${f.schoolId}`], "t1"),
    );
    expect(v.studentIds).toHaveLength(8);
    expect(v.lessons.map((l) => l.topic)).toEqual(["Fractions", "Decimals", ""]);
    expect(v.termMarks).toContainEqual(
      expect.objectContaining({ studentId: f.p.p8, value: MarkValue.MARK_VALUE_NOT_ATTESTED }),
    );
    const err = await rejectionOf<{ code: number }>(
      api.client.getJournalView(req, await api.as(["GUARDIAN"], f.guardian)),
    );
    expect(err.code).toBe(status.PERMISSION_DENIED);
  });

  it("gives a subgroup's members only under its own class group", async () => {
    // `other` is the other class group's subgroup: named beside this class group it shows
    // nobody, not even p3, who was enrolled in this class group (a pupil who moved on).
    const [own, other] = [randomUUID(), randomUUID()];
    const at = new Date("2026-08-30T08:00:00Z");
    const opened = (subgroupId: string, classGroupId: string) =>
      feedEvent(
        "identity",
        subgroupId,
        "SubgroupOpened",
        { subgroupId, classGroupId, subjectId: f.math, schoolId: f.schoolId, name: "1" },
        at,
      );
    const member = (personId: string, subgroupId: string) =>
      feedEvent(
        "identity",
        personId,
        "SubgroupMemberAdded",
        { personId, subgroupId, schoolId: f.schoolId, effectiveDate: "2026-09-01" },
        at,
      );
    await h.publish([
      opened(own, f.cg),
      opened(other, f.cg2),
      member(f.p.p1, own),
      member(f.p.p2, own),
      member(f.p.p9, other),
      member(f.p.p3, other),
    ]);
    await h.caughtUp();
    const teacher = await api.as([`TEACHER@school:${f.schoolId}`], "t1");
    const view = (classGroupId: string, subgroupId: string) =>
      api.client.getJournalView(
        { classGroupId, subgroupId, subjectId: f.math, academicYear: YEAR, term: 1 },
        teacher,
      );
    expect((await view(f.cg, own)).studentIds.sort()).toEqual([f.p.p1, f.p.p2].sort());
    expect((await view(f.cg, other)).studentIds).toEqual([]);
    expect((await view(f.cg2, other)).studentIds).toEqual([f.p.p9]);
  });
});

describe("dashboards", () => {
  const classGroup = () =>
    dashboardQuery({ level: Level.LEVEL_CLASS_GROUP, scopeId: f.cg, subjectId: f.math, term: 1 });

  it("answers a batch: each figure with its definition version", async () => {
    const md = await api.as([`SCHOOL_ADMIN@school:${f.schoolId}`], "a1");
    const r = await api.client.getDashboards(
      {
        queries: [
          classGroup(),
          {
            ...classGroup(),
            term: undefined,
            current: true,
            basis: ResultBasis.RESULT_BASIS_CURRENT,
          },
          { ...classGroup(), level: Level.LEVEL_SCHOOL, scopeId: f.schoolId, subjectId: "" },
        ],
      },
      md,
    );
    const [term, current, school] = r.results.map((x) => x.dashboard);
    expect(term?.performance?.passRate).toMatchObject({
      value: 4 / 6,
      numerator: 4,
      denominator: 6,
      definition: "pass_rate.v1",
    });
    expect(term?.quality).toMatchObject({
      numerator: 3,
      denominator: 6,
      definition: "quality_rate.per_pupil.v1",
    });
    expect(current?.performance?.degreeOfLearning?.definition).toBe("sou.v1+current");
    expect(term?.programmeDelivery).toMatchObject({ numerator: 1, denominator: 2 });
    // on term marks: p7 (in 5Б) has none, so p1-p5 and p8
    expect(school?.allSubjects?.pupilCount?.value).toBe(6);
    expect(school?.attendance?.missedDays).toMatchObject({ illness: 1 });
  });

  it("scopes: a teacher gets an item error for the municipality; the municipal officer and the ministry do not", async () => {
    const muni = {
      ...classGroup(),
      level: Level.LEVEL_MUNICIPALITY,
      scopeId: f.municipalityId,
      term: undefined,
      year: true,
      basis: ResultBasis.RESULT_BASIS_CURRENT,
    };
    const region = { ...muni, level: Level.LEVEL_REGION, scopeId: "" };
    const teacher = await api.client.getDashboards(
      { queries: [muni, region] },
      await api.as([`TEACHER@school:${f.schoolId}`], "t1"),
    );
    expect(teacher.results.map((x) => x.error?.code)).toEqual([
      "PERMISSION_DENIED",
      "PERMISSION_DENIED",
    ]);
    const officer = await api.client.getDashboards(
      { queries: [muni, { ...muni, scopeId: "another" }, region] },
      await api.as([`MUNICIPAL_OFFICER@municipality:${f.municipalityId}`], "m1"),
    );
    expect(officer.results[0]?.dashboard?.performance?.pupilCount?.value).toBe(7);
    expect(officer.results.slice(1).map((x) => x.error?.code)).toEqual([
      "PERMISSION_DENIED",
      "PERMISSION_DENIED",
    ]);
    const ministry = await api.client.getDashboards(
      { queries: [muni, region] },
      await api.as(["MINISTRY_OFFICER@region:74"], "x"),
    );
    expect(ministry.results.every((x) => x.dashboard !== undefined)).toBe(true);
  });

  it("a bad query is an item error naming the field", async () => {
    const md = await api.as(["MINISTRY_OFFICER@region:74"], "x");
    const r = await api.client.getDashboards(
      {
        queries: [
          { ...classGroup(), level: Level.LEVEL_MUNICIPALITY, scopeId: f.municipalityId },
          { ...classGroup(), term: undefined },
        ],
      },
      md,
    );
    expect(r.results[0]?.error).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(r.results[0]?.error?.message).toMatch(/period\.term/);
    expect(r.results[1]?.error?.message).toMatch(/^period/);
  });
});

describe("refusals tell nothing of another school", () => {
  // A refusal named the school and municipality the entity belongs to ("needs TEACHER ...
  // for school S, municipality M"), and an unknown id was refused otherwise (NOT_FOUND, or no
  // school named): anyone could learn which school a pupil attends and which ids exist.
  const unknown = () => randomUUID();
  const without = (message: string | undefined, ...ids: string[]) =>
    ids.reduce((m, id) => m.replaceAll(id, "<id>"), message ?? "");

  it("a diary of another school's pupil is refused as an unknown pupil's is, naming neither school nor municipality", async () => {
    for (const roles of [["TEACHER@school:another"], ["GUARDIAN"], ["STUDENT"]]) {
      const missing = unknown();
      const r = await api.client.getDiaries(
        { studentIds: [f.p.p1, missing], from: "2026-09-01", to: "2026-09-30" },
        await api.as(roles, randomUUID()),
      );
      expect(r.results.map((x) => x.error?.code)).toEqual([
        "PERMISSION_DENIED",
        "PERMISSION_DENIED",
      ]);
      const [known, none] = r.results.map((x) => x.error?.message);
      expect(known).not.toContain(f.schoolId);
      expect(known).not.toContain(f.municipalityId);
      expect(without(known, f.p.p1, "studentIds[0]")).toBe(without(none, missing, "studentIds[1]"));
    }
  });

  it("a journal view of another school's class group is refused as an unknown one's is", async () => {
    const teacher = await api.as(["TEACHER@school:another"], "t2");
    const view = (classGroupId: string) =>
      rejectionOf<{ code: number; details: string }>(
        api.client.getJournalView(
          { classGroupId, subgroupId: "", subjectId: f.math, academicYear: YEAR, term: 1 },
          teacher,
        ),
      );
    const missing = unknown();
    const [known, none] = [await view(f.cg), await view(missing)];
    expect([known.code, none.code]).toEqual([status.PERMISSION_DENIED, status.PERMISSION_DENIED]);
    expect(known.details).not.toContain(f.schoolId);
    expect(known.details).not.toContain(f.municipalityId);
    expect(without(known.details, f.cg)).toBe(without(none.details, missing));
  });

  it("a class group's or school's dashboard: PERMISSION_DENIED whatever the id outside the caller's scope, NOT_FOUND only to who reads every school", async () => {
    const q = (level: Level, scopeId: string) =>
      dashboardQuery({ level, scopeId, year: true, basis: ResultBasis.RESULT_BASIS_CURRENT });
    const [cg, school] = [unknown(), unknown()];
    const queries = [
      q(Level.LEVEL_CLASS_GROUP, f.cg),
      q(Level.LEVEL_CLASS_GROUP, cg),
      q(Level.LEVEL_SCHOOL, f.schoolId),
      q(Level.LEVEL_SCHOOL, school),
    ];
    for (const roles of [["TEACHER@school:another"], ["MUNICIPAL_OFFICER@municipality:another"]]) {
      const r = await api.client.getDashboards({ queries }, await api.as(roles, "x"));
      expect(r.results.map((x) => x.error?.code)).toEqual(Array(4).fill("PERMISSION_DENIED"));
      const [a, b, c, d] = r.results.map((x) => x.error?.message);
      expect(`${a} ${c}`).not.toContain(f.municipalityId);
      expect(a).not.toContain(f.schoolId);
      expect(without(a, f.cg)).toBe(without(b, cg));
      expect(without(c, f.schoolId)).toBe(without(d, school));
    }
    const ministry = await api.client.getDashboards(
      { queries },
      await api.as(["MINISTRY_OFFICER@region:74"], "x"),
    );
    expect(ministry.results.map((x) => x.error?.code ?? "ok")).toEqual([
      "ok",
      "NOT_FOUND",
      "ok",
      "NOT_FOUND",
    ]);
  });
});

describe("diary access follows the enrollment running today", () => {
  it("a transfer recorded ahead of its date leaves the diary with the school the pupil attends until then", async () => {
    // Access went by the latest enrollment's first day: a transfer to another school recorded
    // a month ahead gave that school the pupil's diary at once (this school's lessons and
    // marks) and took it from the school the pupil still attends.
    const [pupil, otherSchool, otherCg] = [randomUUID(), randomUUID(), randomUUID()];
    const ahead = addDays(today(), 30);
    const at = new Date("2026-08-30T08:00:00Z");
    const there = { schoolId: otherSchool, municipalityId: f.municipalityId };
    const here = { schoolId: f.schoolId, municipalityId: f.municipalityId };
    await h.publish([
      feedEvent("identity", otherSchool, "SchoolRegistered", { ...there, name: "B" }, at),
      feedEvent(
        "identity",
        otherCg,
        "ClassGroupOpened",
        { ...there, classGroupId: otherCg, academicYear: YEAR, gradeLevel: 5, letter: "А" },
        at,
      ),
      feedEvent(
        "identity",
        pupil,
        "StudentEnrolled",
        {
          ...here,
          personId: pupil,
          classGroupId: f.cg,
          academicYear: YEAR,
          gradeLevel: 5,
          effectiveDate: "2026-09-01",
        },
        at,
      ),
      feedEvent(
        "identity",
        pupil,
        "StudentTransferred",
        {
          ...there,
          personId: pupil,
          fromClassGroupId: f.cg,
          fromSchoolId: f.schoolId,
          fromMunicipalityId: f.municipalityId,
          toClassGroupId: otherCg,
          academicYear: YEAR,
          gradeLevel: 5,
          effectiveDate: ahead,
        },
        new Date(),
      ),
    ]);
    await h.caughtUp();
    const q = { studentIds: [pupil], from: "2026-09-01", to: "2026-09-30" };
    const read = async (schoolId: string) =>
      (await api.client.getDiaries(q, await api.as([`TEACHER@school:${schoolId}`], "t")))
        .results[0];
    expect((await read(f.schoolId))?.diary).toBeDefined();
    expect((await read(otherSchool))?.error?.code).toBe("PERMISSION_DENIED");
  });
});
