import { describe, expect, it } from "vitest";
import { checkMetricsConfig } from "./definitions.js";
import { journalFromFacts } from "./from-facts.js";
import { journalFigures, MAX_TRACKED_DELAY, medianDelay } from "./journal-fill.js";
import { programmeDelivery } from "./programme.js";

const L = (attendanceTaken: boolean, topicRecorded: boolean, date = "2026-11-02") => ({
  date,
  attendanceTaken,
  topicRecorded,
});

describe("journal fill rate", () => {
  it("counts lessons with attendance taken and a topic, including ones where nobody was absent", () => {
    // L1 both, L2 attendance only, L3 topic only, L4 both (nobody absent), L5 neither
    const c = journalFromFacts(
      [L(true, true), L(true, false), L(false, true), L(true, true), L(false, false)],
      [],
    );
    expect(journalFigures(c, 1).fillRate).toEqual({
      value: 0.4,
      numerator: 2,
      denominator: 5,
      definition: "journal_fill_rate.v1",
    });
  });
});

describe("entry timeliness", () => {
  // delays 0, 0, 1, 2, 5, 9 days
  const entries = [0, 0, 1, 2, 5, 9].map((d) => ({
    lessonDate: "2026-11-02",
    recordedDate: `2026-11-${String(2 + d).padStart(2, "0")}`,
  }));
  const c = journalFromFacts([], entries);

  it("share recorded within k days; k is configuration and part of the definition", () => {
    expect(journalFigures(c, 1).timeliness).toEqual({
      value: 0.5,
      numerator: 3,
      denominator: 6,
      definition: "entry_timeliness.v1(k=1)",
    });
    expect(journalFigures(c, 2).timeliness).toMatchObject({
      numerator: 4,
      denominator: 6,
      definition: "entry_timeliness.v1(k=2)",
    });
    expect(journalFigures(c, 0).timeliness).toMatchObject({ numerator: 2 });
  });

  it("median delay: the mean of the two middle entries for an even count", () => {
    expect(journalFigures(c, 1).medianDelayDays).toEqual({
      value: 1.5,
      definition: "entry_median_delay.v1",
    });
    expect(medianDelay([0, 3])).toBe(1);
    expect(medianDelay([])).toBeNull();
  });

  it("a late entry weeks after the lesson lands in the last bucket; one dated before the lesson counts as 0", () => {
    const late = journalFromFacts(
      [],
      [
        { lessonDate: "2026-09-01", recordedDate: "2026-12-01" },
        { lessonDate: "2026-09-02", recordedDate: "2026-09-01" },
      ],
    );
    expect(late.delays[MAX_TRACKED_DELAY]).toBe(1);
    expect(late.delays[0]).toBe(1);
    expect(journalFigures(late, 3).timeliness).toMatchObject({ numerator: 1, denominator: 2 });
  });

  it("rejects a k outside 0-60, naming the field", () => {
    expect(() => checkMetricsConfig({ qualityVariant: "PER_PUPIL", timelinessDays: -1 })).toThrow(
      /timelinessDays/,
    );
    expect(() =>
      checkMetricsConfig({ qualityVariant: "X" as "PER_PUPIL", timelinessDays: 1 }),
    ).toThrow(/qualityVariant/);
  });

  it("names the field of a bad recorded date", () => {
    expect(() =>
      journalFromFacts([], [{ lessonDate: "2026-11-02", recordedDate: "2.11.2026" }]),
    ).toThrow(/entries\[0\]\.recordedDate/);
  });
});

describe("programme delivery", () => {
  it("delivered lessons / lessons the programme planned to date, min() per programme", () => {
    const f = programmeDelivery([
      { programmeHours: 30, lessonsScheduledToDate: 10, conductedWithTopic: 8 },
      { programmeHours: 5, lessonsScheduledToDate: 10, conductedWithTopic: 5 },
    ]);
    expect(f).toMatchObject({
      numerator: 13,
      denominator: 15,
      definition: "programme_delivery.v1",
    });
    expect(programmeDelivery([]).value).toBeNull();
  });
});
