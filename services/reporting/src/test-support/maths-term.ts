import type { DashboardQuery } from "../queries/dashboards.js";
import { journalView } from "../queries/journal-view.js";
import type { ReadDb } from "../queries/read-db.js";
import { type FeedEvent, feedEvent } from "./feed.js";
import type { SchoolFixture } from "./school.js";

/*
 * Fixture `f`'s maths in its class group, term 1 of 2026/27 (school.ts): what most read-model
 * tests ask about and add lessons to.
 */

/** The class group's maths dashboard for term 1 as of its last day; `over` changes any part. */
export const mathsTermQuery = (
  f: SchoolFixture,
  over: Partial<DashboardQuery> = {},
): DashboardQuery => ({
  level: "CLASS_GROUP",
  scopeId: f.cg,
  startYear: 2026,
  subjectId: f.math,
  period: { kind: "TERM", term: 1 },
  asOf: "2026-10-26",
  ...over,
});

/** The journal view of the class group's maths (the whole group, no subgroup) in term 1. */
export const mathsTermJournal = (db: ReadDb, f: SchoolFixture) =>
  journalView(db, {
    classGroupId: f.cg,
    subgroupId: "",
    subjectId: f.math,
    startYear: 2026,
    term: 1,
  });

/**
 * curriculum's `name` event of a maths lesson of the class group (stream: the lesson), taught
 * by the fixture's teacher; `data` names the lesson and its date and adds or overrides fields
 * (period, term, reason, ...).
 */
export const mathsLessonEvent = (
  f: SchoolFixture,
  name: string,
  data: { lessonId: string } & Record<string, unknown>,
  time: Date,
): FeedEvent =>
  feedEvent(
    "curriculum",
    data.lessonId,
    name,
    {
      schoolId: f.schoolId,
      municipalityId: f.municipalityId,
      academicYear: { startYear: 2026 },
      classGroupId: f.cg,
      subgroupId: "",
      subjectId: f.math,
      teacherId: f.teacher,
      ...data,
    },
    time,
  );
