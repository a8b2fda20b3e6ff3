import { describe, expect, it } from "vitest";
import { attendanceFigures, fullDayReason } from "./attendance.js";
import { attendanceFromFacts, type LessonAttendanceFacts } from "./from-facts.js";

/*
 * Pupils A, B, C; every lesson is for all three (21 pupil-lessons).
 *   Mon L1: A illness, B unexcused      Mon L2: A illness, B excused, C late 10'
 *   Mon L3: A illness, B illness        -> A missed the full day (illness), B too (unexcused)
 *   Tue L4: attendance taken, nobody absent
 *   Tue L5: A excused, C late 5'        -> A missed 1 of 2: no full day
 *   Wed L6: C illness  Wed L7: C excused -> C missed the full day (excused: mixed reasons)
 */
const ABC = ["A", "B", "C"];
const LESSONS: LessonAttendanceFacts[] = [
  {
    date: "2026-11-02",
    pupils: ABC,
    absences: [
      { studentId: "A", reason: "ILLNESS" },
      { studentId: "B", reason: "UNEXCUSED" },
    ],
  },
  {
    date: "2026-11-02",
    pupils: ABC,
    absences: [
      { studentId: "A", reason: "ILLNESS" },
      { studentId: "B", reason: "EXCUSED" },
      { studentId: "C", reason: "NONE", lateMinutes: 10 },
    ],
  },
  {
    date: "2026-11-02",
    pupils: ABC,
    absences: [
      { studentId: "A", reason: "ILLNESS" },
      { studentId: "B", reason: "ILLNESS" },
    ],
  },
  { date: "2026-11-03", pupils: ABC, absences: [] },
  {
    date: "2026-11-03",
    pupils: ABC,
    absences: [
      { studentId: "A", reason: "EXCUSED" },
      { studentId: "C", reason: "NONE", lateMinutes: 5 },
    ],
  },
  { date: "2026-11-04", pupils: ABC, absences: [{ studentId: "C", reason: "ILLNESS" }] },
  { date: "2026-11-04", pupils: ABC, absences: [{ studentId: "C", reason: "EXCUSED" }] },
];

describe("attendance", () => {
  const c = attendanceFromFacts(LESSONS);
  const f = attendanceFigures(c);

  it("missed lessons by reason; a lesson with nobody absent still counts as scheduled", () => {
    expect(c.scheduledPupilLessons).toBe(21);
    expect(f.missedLessons).toEqual({
      total: 9,
      illness: 5,
      excused: 3,
      unexcused: 1,
      definition: "missed_lessons.v1",
    });
  });

  it("attendance rate = 1 − 9/21", () => {
    expect(f.attendanceRate).toMatchObject({
      numerator: 12,
      denominator: 21,
      definition: "attendance_rate.v1",
    });
    expect(f.attendanceRate.value).toBeCloseTo(4 / 7, 10);
  });

  it("full days: every lesson of the day missed, classified by reason", () => {
    expect(f.missedDays).toEqual({
      total: 3,
      illness: 1,
      excused: 1,
      unexcused: 1,
      definition: "missed_days.v1",
    });
  });

  it("lateness is not an absence", () => {
    expect(f.lateness).toEqual({ arrivals: 2, minutes: 15, definition: "lateness.v1" });
  });

  it("a day is not full while a lesson was attended", () => {
    expect(fullDayReason({ lessons: 3, illness: 2, excused: 0, unexcused: 0 })).toBeNull();
    expect(fullDayReason({ lessons: 0, illness: 0, excused: 0, unexcused: 0 })).toBeNull();
    expect(fullDayReason({ lessons: 2, illness: 2, excused: 0, unexcused: 0 })).toBe("ILLNESS");
  });

  it("without scheduled lessons the rate is null", () => {
    expect(attendanceFigures(attendanceFromFacts([])).attendanceRate.value).toBeNull();
  });

  it("names the field of a bad date", () => {
    expect(() => attendanceFromFacts([{ date: "2026-02-30", pupils: [], absences: [] }])).toThrow(
      /lessons\[0\]\.date/,
    );
  });
});
