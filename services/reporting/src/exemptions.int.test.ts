import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { rejectionOf, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORTING_SCHEMA } from "./projections/projection.js";
import { MAX_DIARY_DAYS } from "./queries/diary.js";
import { type FeedEvent, feedEvent } from "./test-support/feed.js";
import { type ApiHarness, startApi } from "./test-support/grpc.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import type { SchoolFixture } from "./test-support/school.js";

/*
 * Exemptions (осв.) in the diary and the journal view, over the fixture school (school.ts:
 * p3 exempt from PE over term 1, 2026-09-01..2026-10-26), and the diary's range bound.
 */
const env = useTestEnvironment({ label: "reporting_exemptions" });
let h: Harness;
let api: ApiHarness;
let f: SchoolFixture;

const at = (day: string) => new Date(`${day}T08:00:00Z`);
// Free text about a pupil's health, as events recorded before the notes table carried it.
const REASON = "бронхиальная астма, справка ВК № 4471";

/** grades' ExemptionGranted in the fixture's journal of `subjectId` (class group `cg`). */
function exemption(
  student: string,
  subjectId: string,
  firstDay: string,
  lastDay: string,
  cg = f.cg,
  reason = "",
): FeedEvent {
  const journal = { ...f.journalMath, journalId: randomUUID(), classGroupId: cg, subjectId };
  return feedEvent(
    "grades",
    journal.journalId,
    "ExemptionGranted",
    {
      schoolId: f.schoolId,
      municipalityId: f.municipalityId,
      journal,
      exemptionId: randomUUID(),
      studentId: student,
      firstDay,
      lastDay,
      reason,
      reasonNoteId: randomUUID(),
      authorId: f.teacher,
    },
    at(firstDay),
  );
}

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
  api = await startApi(h.db);
  await h.publish([
    // p4: maths in term 2 (2026-11-05..2026-12-28) only.
    exemption(f.p.p4, f.math, "2026-11-10", "2026-11-20"),
    // p9 is in 5Б: not on 5А's roster.
    exemption(f.p.p9, f.pe, "2026-09-01", "2026-12-28", f.cg2),
  ]);
  await h.caughtUp();
});

afterAll(async () => {
  await api?.close();
  await h?.close();
});

const YEAR = { startYear: 2026 };
const pe3 = () => ({
  studentId: f.p.p3,
  subjectId: f.pe,
  firstDay: "2026-09-01",
  lastDay: "2026-10-26",
});

const diaries = async (studentIds: string[], from: string, to: string) =>
  (
    await api.client.getDiaries(
      { studentIds, from, to },
      await api.as([`TEACHER@school:${f.schoolId}`], "t"),
    )
  ).results;

const journal = async (subjectId: string, term: number) =>
  api.client.getJournalView(
    { classGroupId: f.cg, subgroupId: "", subjectId, academicYear: YEAR, term },
    await api.as([`TEACHER@school:${f.schoolId}`], "t"),
  );

describe("exemptions in the diary", () => {
  it("a pupil's exemption shows in a diary range it overlaps, and not outside it", async () => {
    const [inside] = await diaries([f.p.p3], "2026-10-20", "2026-11-02");
    expect(inside?.diary?.exemptions).toEqual([pe3()]);
    const [before] = await diaries([f.p.p3], "2026-08-20", "2026-08-31");
    expect(before?.diary?.exemptions).toEqual([]);
    const [after] = await diaries([f.p.p3], "2026-10-27", "2026-11-30");
    expect(after?.diary?.exemptions).toEqual([]);
  });

  it("a guardian sees their child's exemption; another pupil's exemption is in no one else's diary", async () => {
    const r = await api.client.getDiaries(
      { studentIds: [f.p.p1, f.p.p3], from: "2026-09-01", to: "2026-12-31" },
      await api.as(["GUARDIAN"], f.guardian),
    );
    expect(r.results[0]?.diary?.exemptions).toEqual([]);
    expect(r.results[1]?.error?.code).toBe("PERMISSION_DENIED");
    const all = await diaries([f.p.p1, f.p.p3, f.p.p4, f.p.p9], "2026-09-01", "2026-12-31");
    expect(all.map((x) => x.diary?.exemptions.map((e) => e.studentId))).toEqual([
      [],
      [f.p.p3],
      [f.p.p4],
      [f.p.p9],
    ]);
  });
});

describe("exemptions in the journal view", () => {
  it("the journal of the subject shows its pupils' exemptions overlapping the term", async () => {
    expect((await journal(f.pe, 1)).exemptions).toEqual([pe3()]);
    // Term 2 begins 2026-11-05, after p3's exemption ended.
    expect((await journal(f.pe, 2)).exemptions).toEqual([]);
    expect((await journal(f.math, 1)).exemptions).toEqual([]);
    const p4 = {
      studentId: f.p.p4,
      subjectId: f.math,
      firstDay: "2026-11-10",
      lastDay: "2026-11-20",
    };
    expect((await journal(f.math, 2)).exemptions).toEqual([p4]);
    expect((await journal(f.math, 0)).exemptions).toEqual([p4]);
  });

  it("another class group's pupil's exemption does not show", async () => {
    const pe = await journal(f.pe, 0);
    expect(pe.exemptions.map((e) => e.studentId)).toEqual([f.p.p3]);
    const other = await api.client.getJournalView(
      { classGroupId: f.cg2, subgroupId: "", subjectId: f.pe, academicYear: YEAR, term: 0 },
      await api.as([`TEACHER@school:${f.schoolId}`], "t"),
    );
    // p3 is 5А's, p9 5Б's.
    expect(other.exemptions.map((e) => e.studentId)).toEqual([f.p.p9]);
  });

  it("a subgroup's journal shows its members' exemptions only", async () => {
    const [withP3, withoutP3] = [randomUUID(), randomUUID()];
    const day = at("2026-08-30");
    const where = { schoolId: f.schoolId, municipalityId: f.municipalityId };
    const opened = (subgroupId: string) =>
      feedEvent(
        "identity",
        subgroupId,
        "SubgroupOpened",
        { ...where, subgroupId, classGroupId: f.cg, subjectId: f.pe, name: subgroupId },
        day,
      );
    const member = (personId: string, subgroupId: string) =>
      feedEvent(
        "identity",
        personId,
        "SubgroupMemberAdded",
        { ...where, personId, subgroupId, effectiveDate: "2026-09-01" },
        day,
      );
    await h.publish([
      opened(withP3),
      opened(withoutP3),
      member(f.p.p3, withP3),
      member(f.p.p1, withP3),
      member(f.p.p2, withoutP3),
    ]);
    await h.caughtUp();
    const view = async (subgroupId: string) =>
      api.client.getJournalView(
        { classGroupId: f.cg, subgroupId, subjectId: f.pe, academicYear: YEAR, term: 1 },
        await api.as([`TEACHER@school:${f.schoolId}`], "t"),
      );
    expect((await view(withP3)).exemptions).toEqual([pe3()]);
    expect((await view(withoutP3)).exemptions).toEqual([]);
  });

  it("a pupil who left the class group: only exemptions over days they were in it", async () => {
    // p7 moved from 5А to 5Б on 2026-10-01 (school.ts); exempt from PE in 5А before, in 5Б after.
    await h.publish([
      exemption(f.p.p7, f.pe, "2026-09-10", "2026-09-20"),
      exemption(f.p.p7, f.pe, "2026-11-10", "2026-11-30", f.cg2),
    ]);
    await h.caughtUp();
    const of = (first: string, last: string) => ({
      studentId: f.p.p7,
      subjectId: f.pe,
      firstDay: first,
      lastDay: last,
    });
    const p7 = (x: { studentId: string }[]) => x.filter((e) => e.studentId === f.p.p7);
    expect(p7((await journal(f.pe, 0)).exemptions)).toEqual([of("2026-09-10", "2026-09-20")]);
    expect(p7((await journal(f.pe, 2)).exemptions)).toEqual([]);
    const there = await api.client.getJournalView(
      { classGroupId: f.cg2, subgroupId: "", subjectId: f.pe, academicYear: YEAR, term: 0 },
      await api.as([`TEACHER@school:${f.schoolId}`], "t"),
    );
    expect(p7(there.exemptions)).toEqual([of("2026-11-10", "2026-11-30")]);
  });
});

describe("an exemption's reason", () => {
  it("is in no table and no answer, and the pupil's erasure leaves nothing personal", async () => {
    await h.publish([
      exemption(f.p.p5, f.pe, "2026-11-05", "2026-12-28", f.cg, REASON),
      feedEvent(
        "identity",
        f.p.p5,
        "PersonErased",
        { personId: f.p.p5, schoolId: f.schoolId, municipalityId: f.municipalityId },
        at("2026-11-06"),
      ),
    ]);
    await h.caughtUp();
    const [d] = await diaries([f.p.p5], "2026-11-01", "2026-11-30");
    expect(d?.diary?.exemptions).toEqual([
      { studentId: f.p.p5, subjectId: f.pe, firstDay: "2026-11-05", lastDay: "2026-12-28" },
    ]);
    const view = await journal(f.pe, 2);
    expect(JSON.stringify(view)).not.toContain("астма");
    expect(JSON.stringify(d)).not.toContain("астма");
    // Every row of every table of the read model, as text.
    const { rows: tables } = await h.pool.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1",
      [REPORTING_SCHEMA],
    );
    expect(tables.length).toBeGreaterThan(10);
    for (const { name } of tables) {
      const { rows } = await h.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${REPORTING_SCHEMA}"."${name}" t
          WHERE to_jsonb(t)::text LIKE '%' || $1 || '%'`,
        ["астма"],
      );
      expect(Number(rows[0]?.n), name).toBe(0);
    }
  });
});

describe("the diary's range", () => {
  const refusal = async (from: string, to: string, studentIds = [f.p.p1]) =>
    rejectionOf<{ code: number; details: string }>(
      api.client.getDiaries(
        { studentIds, from, to },
        await api.as([`TEACHER@school:${f.schoolId}`], "t"),
      ),
    );

  it(`refuses a range of more than ${MAX_DIARY_DAYS} days whole, naming to`, async () => {
    const err = await refusal("2000-09-01", "2026-09-30");
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^to: at most 366 days after from, got 9525$/);
    const year = await refusal("2026-09-01", "2027-09-03");
    expect(year.details).toBe("to: at most 366 days after from, got 367");
  });

  it("refuses to before from, and a bad date, whole and before any pupil is looked at", async () => {
    const back = await refusal("2026-09-30", "2026-09-01", [f.p.p1, "nobody"]);
    expect(back.code).toBe(status.INVALID_ARGUMENT);
    expect(back.details).toBe("to: must not be before from");
    const bad = await refusal("2026-02-30", "2026-09-01", []);
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/^from: /);
  });

  it("answers a school year, a leap one too (what portal asks: 1 September to 31 August)", async () => {
    for (const [from, to] of [
      ["2026-09-01", "2027-08-31"],
      ["2027-09-01", "2028-08-31"],
      ["2026-09-01", "2027-09-02"],
    ] as const) {
      const [r] = await diaries([f.p.p1], from, to);
      expect(r?.diary, `${from}..${to}`).toBeDefined();
    }
  });
});
