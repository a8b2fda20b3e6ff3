import { randomUUID } from "node:crypto";
import {
  AsOfMode,
  type DashboardQuery,
  ExportFormat,
  Level,
} from "@otmetka/proto/reporting/v1/reporting_service";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diary } from "./queries/diary.js";
import { feedEvent } from "./test-support/feed.js";
import { type ApiHarness, startApi } from "./test-support/grpc.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { dashboardQuery, exportRequest } from "./test-support/requests.js";
import type { SchoolFixture } from "./test-support/school.js";
import { readCsv } from "./test-support/sheet.js";

/*
 * Inputs and views a school, a municipality or the ministry meets at the edges: the fixture
 * school of test-support/school.ts (2026/2027), plus p1's maths of the year before (2025/2026):
 * a 2 on 2025-10-01 (term 1) and term marks 2 (term 1), 3 (term 4) and 3 (the year).
 */
const env = useTestEnvironment({ label: "reporting_edges" });
let h: Harness;
let f: SchoolFixture;
let api: ApiHarness;

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
  const where = { schoolId: f.schoolId, municipalityId: f.municipalityId };
  const journal = { ...f.journalMath, journalId: randomUUID(), academicYear: { startYear: 2025 } };
  const at = (day: string) => new Date(`${day}T08:00:00Z`);
  const g = (name: string, v: Record<string, unknown>, day: string) =>
    feedEvent("grades", journal.journalId, name, { ...where, journal, ...v }, at(day));
  const termMark = (term: number, value: number, day: string) =>
    g("TermMarkSet", { studentId: f.p.p1, term, value, authorId: "t" }, day);
  await h.publish([
    g(
      "MarkRecorded",
      {
        markId: randomUUID(),
        lessonId: randomUUID(),
        lessonDate: "2025-10-01",
        term: 1,
        studentId: f.p.p1,
        value: 2,
        workType: "ORAL",
        weight: 1,
        authorId: "t",
      },
      "2025-10-01",
    ),
    termMark(1, 2, "2025-10-27"),
    termMark(4, 3, "2026-05-25"),
    termMark(0, 3, "2026-05-26"),
  ]);
  await h.caughtUp();
  api = await startApi(h.db);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await h?.close();
});

describe("diary across academic years", () => {
  it("a diary of September shows this year's term marks only, not last year's under the same term numbers", async () => {
    const d = await diary(h.db, f.p.p1, "2026-09-01", "2026-09-30");
    expect(d.termMarks).toEqual([{ subjectId: f.math, term: 1, value: "5" }]);
    // Last year's range still shows last year's.
    const before = await diary(h.db, f.p.p1, "2026-05-01", "2026-05-31");
    expect(before.termMarks.map((t) => [t.term, t.value])).toEqual([
      [0, "3"],
      [1, "2"],
      [4, "3"],
    ]);
  });

  it("a range over two years never averages term 1 of one year with term 1 of the other", async () => {
    // Within a diary's bound (366 days), across the years' boundary.
    const d = await diary(h.db, f.p.p1, "2025-10-01", "2026-09-30");
    const math1 = d.averages.filter((a) => a.subjectId === f.math && a.term === 1);
    // 2025/2026: one 2; 2026/2027: 5 and 5 (weight 2).
    expect(math1.map((a) => a.weightedAverage).sort()).toEqual(["2.00", "5.00"]);
  });
});

describe("as-of days", () => {
  const query = (over: Partial<DashboardQuery>) =>
    dashboardQuery({
      level: Level.LEVEL_CLASS_GROUP,
      scopeId: f.cg,
      subjectId: f.math,
      term: 1,
      ...over,
    });

  it("before the academic year, or in recorded mode after today, is an item error naming asOf", async () => {
    const md = await api.as([`SCHOOL_ADMIN@school:${f.schoolId}`], "a1");
    const r = await api.client.getDashboards(
      {
        queries: [
          query({}),
          // 2025-10-26 for 2026/2027: a typo of the year, answered before with zeros.
          query({ asOf: "2025-10-26", asOfMode: AsOfMode.AS_OF_MODE_EFFECTIVE }),
          // What will be known at the end of 2099-01-01 is not known today.
          query({ asOf: "2099-01-01", asOfMode: AsOfMode.AS_OF_MODE_RECORDED }),
          // A year long past as of a later day stays possible, as does effective mode later on.
          query({ asOf: "2099-01-01", asOfMode: AsOfMode.AS_OF_MODE_EFFECTIVE }),
        ],
      },
      md,
    );
    expect(r.results[0]?.dashboard?.performance?.pupilCount?.numerator).toBe(6);
    for (const i of [1, 2]) {
      expect(r.results[i]?.error).toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(r.results[i]?.error?.message).toMatch(/^asOf: /);
    }
    expect(r.results[3]?.dashboard?.performance?.pupilCount?.numerator).toBe(6);
  });

  it("the statutory export refuses a recorded report dated after today", async () => {
    const md = await api.as([`SCHOOL_ADMIN@school:${f.schoolId}`], "a1");
    await expect(
      api.client.exportPerformanceReport(
        exportRequest({
          level: Level.LEVEL_SCHOOL,
          scopeId: f.schoolId,
          term: 1,
          asOf: "2099-01-01",
          asOfMode: AsOfMode.AS_OF_MODE_RECORDED,
        }),
        md,
      ),
    ).rejects.toMatchObject({ code: 3, details: expect.stringMatching(/asOf/) });
  });
});

describe("a term the school does not define", () => {
  // The fixture school has two terms in 2026/2027 and no term system for 2025/2026.
  const query = (over: Partial<DashboardQuery>) =>
    dashboardQuery({
      level: Level.LEVEL_SCHOOL,
      scopeId: f.schoolId,
      subjectId: f.math,
      term: 1,
      ...over,
    });

  it("is an item error naming period.term and the terms there are, not the year's figures", async () => {
    const md = await api.as([`SCHOOL_ADMIN@school:${f.schoolId}`], "a1");
    const r = await api.client.getDashboards(
      {
        queries: [
          query({}),
          query({ term: 3 }),
          query({ level: Level.LEVEL_CLASS_GROUP, scopeId: f.cg, term: 4 }),
          // Last year's term marks are there, its term system never was.
          query({ academicYear: { startYear: 2025 }, asOf: "2026-06-30", term: 4 }),
        ],
      },
      md,
    );
    expect(r.results[0]?.error).toBeUndefined();
    expect(r.results[0]?.dashboard?.performance?.pupilCount?.numerator).toBeGreaterThan(0);
    for (const i of [1, 2, 3]) {
      expect(r.results[i]?.dashboard).toBeUndefined();
      expect(r.results[i]?.error).toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(r.results[1]?.error?.message).toBe(
      `period.term: school ${f.schoolId} has terms 1, 2 in 2026/2027, not 3`,
    );
    expect(r.results[2]?.error?.message).toBe(
      `period.term: class group ${f.cg} has terms 1, 2 in 2026/2027, not 4`,
    );
    expect(r.results[3]?.error?.message).toBe(
      `period.term: school ${f.schoolId} has no terms in 2025/2026 (its term system is not known here yet)`,
    );
  });

  it("refuses the statutory export for it, naming period.term", async () => {
    const md = await api.as([`SCHOOL_ADMIN@school:${f.schoolId}`], "a1");
    await expect(
      api.client.exportPerformanceReport(
        exportRequest({ level: Level.LEVEL_SCHOOL, scopeId: f.schoolId, term: 3 }),
        md,
      ),
    ).rejects.toMatchObject({ code: 3, details: expect.stringMatching(/^period\.term: .* 1, 2 /) });
  });
});

describe("journal view input", () => {
  it("without an academic year is INVALID_ARGUMENT naming it, not an empty journal", async () => {
    const md = await api.as([`TEACHER@school:${f.schoolId}`], "t1");
    const ask = { classGroupId: f.cg, subgroupId: "", subjectId: f.math, term: 1 };
    expect(
      (await api.client.getJournalView({ ...ask, academicYear: { startYear: 2026 } }, md)).lessons,
    ).toHaveLength(3);
    await expect(api.client.getJournalView(ask, md)).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/^academicYear/),
    });
  });
});

describe("statutory export file name", () => {
  it("holds the scope id only as safe, bounded characters, however hostile the id", async () => {
    // Quotes, a path, CR/LF (a header split), Cyrillic and length: a ministry officer's text.
    const hostile = `a"b/../c\\d\r\nX-Injected: 1 Челябинск;${"z".repeat(300)}`;
    await h.publish([
      feedEvent(
        "identity",
        randomUUID(),
        "SchoolRegistered",
        { schoolId: randomUUID(), municipalityId: hostile, timeZone: "Asia/Yekaterinburg" },
        new Date("2026-08-25T08:00:00Z"),
      ),
    ]);
    await h.caughtUp();
    const exportOf = (scopeId: string) =>
      municipalityExport(scopeId, ["MINISTRY_OFFICER@region:74"], ExportFormat.EXPORT_FORMAT_XLSX);
    const r = await exportOf(hostile);
    expect(r.fileName).toMatch(/^[A-Za-z0-9._-]{1,160}$/);
    expect(r.fileName).toMatch(
      /^performance-municipality-a_b_\.\._c_d_X-Injected_1_z+_[0-9a-f]{8}-2026-year-2026-10-26-v1\.xlsx$/,
    );
    // A plain id (a UUID) stays as it is, so the name still says which municipality it is.
    const plain = await exportOf(f.municipalityId);
    expect(plain.fileName).toBe(
      `performance-municipality-${f.municipalityId}-2026-year-2026-10-26-v1.xlsx`,
    );
  });
});

/** The 2026 year's statutory export of a municipality as of 2026-10-26, by a caller with `roles`. */
async function municipalityExport(
  scopeId: string,
  roles: string[],
  format = ExportFormat.EXPORT_FORMAT_CSV,
) {
  return api.client.exportPerformanceReport(
    exportRequest({ level: Level.LEVEL_MUNICIPALITY, scopeId, year: true, format }),
    await api.as(roles, "officer"),
  );
}

describe("statutory export of a municipality", () => {
  const exportOf = (scopeId: string, roles: string[]) => municipalityExport(scopeId, roles);

  it("of an unknown municipality is NOT_FOUND naming the id, not an empty report", async () => {
    await expect(
      exportOf("no-such-municipality", ["MINISTRY_OFFICER@region:74"]),
    ).rejects.toMatchObject({
      code: 5,
      details: "scopeId: no municipality no-such-municipality",
    });
    // The caller's scope is checked first: an officer elsewhere learns nothing of the id.
    await expect(
      exportOf("no-such-municipality", [`MUNICIPAL_OFFICER@municipality:${f.municipalityId}`]),
    ).rejects.toMatchObject({ code: 7 });
    const known = await exportOf(f.municipalityId, ["MINISTRY_OFFICER@region:74"]);
    expect(Buffer.from(known.content).toString("utf8")).toContain(f.schoolId);
  });
});

describe("dashboards of a municipality", () => {
  const muni = (scopeId: string) =>
    dashboardQuery({ level: Level.LEVEL_MUNICIPALITY, scopeId, year: true });

  it("of an unknown municipality is an item error NOT_FOUND naming the id, as the export, not zeros", async () => {
    const r = await api.client.getDashboards(
      { queries: [muni("no-such-municipality"), muni(f.municipalityId)] },
      await api.as(["MINISTRY_OFFICER@region:74"], "ministry"),
    );
    expect(r.results[0]?.dashboard).toBeUndefined();
    expect(r.results[0]?.error).toEqual({
      code: "NOT_FOUND",
      message: "scopeId: no municipality no-such-municipality",
    });
    expect(r.results[1]?.error).toBeUndefined();
    expect(r.results[1]?.dashboard?.definitionVersion).toBe(1);
    // The caller's scope first: an officer elsewhere learns nothing of the id.
    const officer = await api.client.getDashboards(
      { queries: [muni("no-such-municipality")] },
      await api.as([`MUNICIPAL_OFFICER@municipality:${f.municipalityId}`], "officer"),
    );
    expect(officer.results[0]?.error?.code).toBe("PERMISSION_DENIED");
  });
});

describe("a municipality registered before any of its schools", () => {
  it("is known: its dashboard is zeros and its export has no rows and a total of zeros, not NOT_FOUND", async () => {
    const municipalityId = randomUUID();
    await h.publish([
      feedEvent(
        "identity",
        municipalityId,
        "MunicipalityRegistered",
        { municipalityId, name: "Новый муниципальный округ" },
        new Date("2026-08-25T08:00:00Z"),
      ),
    ]);
    await h.caughtUp();
    const ministry = ["MINISTRY_OFFICER@region:74"];
    const r = await api.client.getDashboards(
      {
        queries: [
          dashboardQuery({ level: Level.LEVEL_MUNICIPALITY, scopeId: municipalityId, year: true }),
        ],
      },
      await api.as(ministry, "ministry"),
    );
    expect(r.results[0]?.error).toBeUndefined();
    const p = r.results[0]?.dashboard?.performance;
    expect(p?.pupilCount).toMatchObject({ value: 0, numerator: 0 });
    expect(p?.passRate?.value).toBeUndefined();
    const csv = await readCsv((await municipalityExport(municipalityId, ministry)).content);
    expect(csv.find("Муниципалитет")[1]).toBe("Новый муниципальный округ");
    // The table's heading, then the total at once (no school rows), every count 0.
    expect(csv.rowOf("Итого")).toBe(csv.rowOf("Школа") + 1);
    const total = csv.find("Итого");
    expect(total[2]).toBe("0");
    expect(total.slice(2).filter((v) => v != null && v !== "" && v !== "0")).toEqual([]);
  });
});
