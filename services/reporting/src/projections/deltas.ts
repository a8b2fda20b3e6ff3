import { type AllSubjectsCounters, emptyAllSubjects } from "../domain/metrics/all-subjects.js";
import { type AttendanceCounters, emptyAttendance } from "../domain/metrics/attendance.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import { emptyJournal, type JournalCounters } from "../domain/metrics/journal-fill.js";
import { emptyPerformance, type PerformanceCounters } from "../domain/metrics/performance.js";
import { AttendanceBuffer } from "./attendance-buffer.js";
import {
  attendanceToArray,
  journalToArray,
  type PerfRowCounters,
  perfRowToArray,
  type StandingRowCounters,
  standingRowToArray,
} from "./counters-codec.js";
import type { LessonDiaries } from "./lesson-notices.js";
import type { StoredLesson } from "./lessons.js";
import type { RebuildMemory } from "./rebuild-memory.js";

export type Level = "CLASS_GROUP" | "SCHOOL" | "MUNICIPALITY" | "REGION";
/** The region is one; its aggregates sit under this scope id. */
export const REGION_SCOPE = "region";
export const ALL_SUBJECTS = "*";

/** Where a pupil or a lesson counts: its class group and what that rolls up to. */
export interface Scope {
  readonly classGroupId: string;
  readonly schoolId: string;
  readonly municipalityId: string;
}

export const levelsOf = (s: Scope): [Level, string][] => [
  ["CLASS_GROUP", s.classGroupId],
  ["SCHOOL", s.schoolId],
  ["MUNICIPALITY", s.municipalityId],
  ["REGION", REGION_SCOPE],
];

/** A scope's levels with the key prefix of their rows (`level|id|`). */
type LevelKey = readonly [Level, string, string];
// Made once per distinct scope, not per row: every row taken is rolled up through them.
const levelKeyCache = new Map<string, LevelKey[]>();

/** A scope as one key: its class group with what that rolls up to. */
const scopeKeyOf = (s: Scope) => `${s.classGroupId}|${s.schoolId}|${s.municipalityId}|`;

function levelKeys(s: Scope): LevelKey[] {
  const k = scopeKeyOf(s);
  let keys = levelKeyCache.get(k);
  if (!keys) {
    if (levelKeyCache.size > 10_000) levelKeyCache.clear();
    keys = levelsOf(s).map(([level, id]): LevelKey => [level, id, `${level}|${id}|`]);
    levelKeyCache.set(k, keys);
  }
  return keys;
}

/** A row's deltas at the class group's level, with the scope they roll up through. */
interface Fine<C> {
  readonly scope: Scope;
  readonly c: C;
}

/**
 * An aggregate row's summed deltas: its key columns in table order (perf: level, scope, year,
 * term, subject; standing: level, scope, year, term; daily: level, scope, subject, day) and
 * its counter columns as counters-codec gives them.
 */
export interface TotalRow {
  readonly key: readonly unknown[];
  readonly cols: number[][];
}

/** Adds `cols` into the row at `k`, made from `key()` on a miss. */
function addInto(
  rows: Map<string, TotalRow>,
  k: string,
  key: () => unknown[],
  cols: number[][],
): void {
  const row = rows.get(k);
  if (!row) {
    rows.set(k, { key: key(), cols: cols.map((c) => [...c]) });
    return;
  }
  for (let i = 0; i < cols.length; i++) {
    const to = row.cols[i] as number[];
    const from = cols[i] as number[];
    for (let j = 0; j < from.length; j++) to[j] = (to[j] as number) + (from[j] as number);
  }
}

/** A marks row (see schema.ts) in column order. */
export interface NewMark {
  mark_id: string;
  journal_id: string;
  school_id: string;
  municipality_id: string;
  start_year: number;
  class_group_id: string;
  subgroup_id: string;
  subject_id: string;
  term: number;
  lesson_id: string;
  lesson_date: string;
  student_id: string;
  value: string;
  weight: number;
  work_type: string;
  revoked: boolean;
}

/** A journal entry made at `time` for a lesson on `lessonDate`, its delay not counted yet. */
export interface PendingDelay {
  readonly scope: Scope;
  readonly subjectId: string;
  readonly lessonDate: string;
  readonly time: string;
  /** -1: an entry that counted leaves (its lesson no longer takes place). */
  readonly sign: 1 | -1;
}

/** Per-pupil recomputation to do in flush: (student, year, term) -> subjects touched. */
export interface Touched {
  readonly studentId: string;
  readonly startYear: number;
  readonly term: number;
  readonly subjects: Map<string, Scope>;
}

/**
 * One batch's deltas, merged in memory per key and written in one statement per table by
 * flush: a batch of a thousand marks in one class group is one upsert per aggregate row.
 */
export class Deltas {
  // Handlers count at the class group's level only (a mark touches 2 rows instead of 16);
  // `perfTotals` and its kin roll them up to every level, and to all subjects, when taken.
  private readonly perf = new Map<
    string,
    Fine<PerfRowCounters> & { startYear: number; term: number; subjectId: string }
  >();
  private readonly standing = new Map<
    string,
    Fine<StandingRowCounters> & { startYear: number; term: number }
  >();
  private readonly daily = new Map<
    string,
    Fine<{ att: AttendanceCounters; journal: JournalCounters }> & {
      subjectId: string | null;
      day: string;
    }
  >();
  readonly touched = new Map<string, Touched>();
  readonly changedPupils = new Set<string>();
  /** Lessons whose pupils' diaries change (lesson-notices.ts): their pupils are found in flush. */
  readonly lessonDiaries: LessonDiaries = new Map();
  /** Marks recorded in this batch, written by flush in one statement (later events of the batch see them here). */
  readonly newMarks = new Map<string, NewMark>();
  /** Journal entries whose school's time zone is not cached yet: counted in flush (timeliness.ts). */
  readonly pendingDelays: PendingDelay[] = [];
  /** Absences and pupil-days of the batch, written by flush (kept across a day close: facts, not aggregates). */
  readonly attendance: AttendanceBuffer;
  /** Lessons scheduled in this batch, not written yet (lessons.ts writeScheduled): id -> column values. */
  readonly scheduled = new Map<string, unknown[]>();
  /**
   * Lessons the batch has read or written (every column), changed ones written back by
   * flush; a rebuild's hold every lesson it has seen, from batch to batch.
   */
  readonly lessons: Map<string, StoredLesson>;
  readonly dirtyLessons = new Set<string>();
  /** Enrollments a rebuild gathered: person, class group, first day (replicas.ts). */
  readonly newEnrollments: [string, string, string][] = [];
  /** Lessons inserted by this batch: none has stored absences. */
  readonly freshLessons = new Set<string>();
  /** The recorded-time clock's open day as this batch sees it (undefined: not read yet). */
  openDay: string | null | undefined = undefined;
  /** The batch moved the clock: flush stores the new open day. */
  clockMoved = false;

  /** `rebuild`: a rebuild's state across batches (aggregates and attendance in memory). */
  constructor(readonly rebuild?: RebuildMemory) {
    this.attendance = rebuild?.attendance ?? new AttendanceBuffer();
    this.lessons = rebuild?.lessons ?? new Map();
  }

  /**
   * Forgets what was written (a mid-batch flush at a day boundary); notices are kept. A
   * rebuild keeps the batch's new marks: it writes them in its flush only.
   */
  clearWritten(): void {
    this.clearAggregates();
    this.touched.clear();
    if (!this.rebuild) this.newMarks.clear();
  }

  /** Forgets the aggregates' deltas (taken by a rebuild's memory). */
  clearAggregates(): void {
    this.perf.clear();
    this.standing.clear();
    this.daily.clear();
  }

  /** The perf rows' deltas at every level, for the subject and for all subjects. */
  perfTotals(): Map<string, TotalRow> {
    const rows = new Map<string, TotalRow>();
    for (const { scope, c, startYear: y, term: t, subjectId } of this.perf.values()) {
      const cols = [perfRowToArray(c)];
      for (const [level, id, prefix] of levelKeys(scope))
        for (const s of [subjectId, ALL_SUBJECTS])
          addInto(rows, `${prefix}${y}|${t}|${s}`, () => [level, id, y, t, s], cols);
    }
    return rows;
  }

  /** The standing rows' deltas at every level. */
  standingTotals(): Map<string, TotalRow> {
    const rows = new Map<string, TotalRow>();
    for (const { scope, c, startYear: y, term: t } of this.standing.values()) {
      const cols = [standingRowToArray(c)];
      for (const [level, id, prefix] of levelKeys(scope))
        addInto(rows, `${prefix}${y}|${t}`, () => [level, id, y, t], cols);
    }
    return rows;
  }

  /** The daily rows' deltas at every level, for the subject (if any) and for all subjects. */
  dailyTotals(): Map<string, TotalRow> {
    const rows = new Map<string, TotalRow>();
    for (const { scope, c, subjectId, day } of this.daily.values()) {
      const cols = [attendanceToArray(c.att), journalToArray(c.journal)];
      const subjects = subjectId === null ? [ALL_SUBJECTS] : [subjectId, ALL_SUBJECTS];
      for (const [level, id, prefix] of levelKeys(scope))
        for (const s of subjects)
          addInto(rows, `${prefix}${s}|${day}`, () => [level, id, s, day], cols);
    }
    return rows;
  }

  /**
   * Applies `fn` to the pupil-result counters of `basis` for `scope`'s class group and the
   * subject (`perfTotals` rolls them up to every level and to all subjects).
   */
  perfAt(
    scope: Scope,
    startYear: number,
    term: number,
    subjectId: string,
    basis: ResultBasis,
    fn: (c: PerformanceCounters) => void,
  ): void {
    this.perfRow(scope, startYear, term, subjectId, (r) => {
      let c = r[basis];
      if (!c) {
        c = emptyPerformance();
        r[basis] = c;
      }
      fn(c);
    });
  }

  /** Applies `fn` to the entry counters (the same under both bases), as `perfAt` does. */
  entriesAt(
    scope: Scope,
    startYear: number,
    term: number,
    subjectId: string,
    fn: (c: PerformanceCounters) => void,
  ): void {
    this.perfRow(scope, startYear, term, subjectId, (r) => {
      if (!r.entries) r.entries = emptyPerformance();
      fn(r.entries);
    });
  }

  private perfRow(
    scope: Scope,
    startYear: number,
    term: number,
    subjectId: string,
    fn: (r: PerfRowCounters) => void,
  ): void {
    const k = `${scopeKeyOf(scope)}${startYear}|${term}|${subjectId}`;
    let f = this.perf.get(k);
    if (!f) {
      f = { scope, c: {}, startYear, term, subjectId };
      this.perf.set(k, f);
    }
    fn(f.c);
  }

  standingAt(
    scope: Scope,
    startYear: number,
    term: number,
    basis: ResultBasis,
    fn: (c: AllSubjectsCounters) => void,
  ) {
    const k = `${scopeKeyOf(scope)}${startYear}|${term}`;
    let f = this.standing.get(k);
    if (!f) {
      f = { scope, c: {}, startYear, term };
      this.standing.set(k, f);
    }
    let c = f.c[basis];
    if (!c) {
      c = emptyAllSubjects();
      f.c[basis] = c;
    }
    fn(c);
  }

  /**
   * Daily counters of `scope`'s class group for the subject, or (`subjectId` null) for all
   * subjects only (`dailyTotals` rolls them up to every level and to all subjects).
   */
  dailyAt(
    scope: Scope,
    subjectId: string | null,
    day: string,
    fn: (c: { att: AttendanceCounters; journal: JournalCounters }) => void,
  ): void {
    // A subject's row and the all-subjects-only row of the same day stay apart: the first
    // rolls up to both subject rows, the second to the all-subjects row alone.
    const k = `${scopeKeyOf(scope)}${subjectId === null ? "|" : `s|${subjectId}`}|${day}`;
    let f = this.daily.get(k);
    if (!f) {
      f = { scope, subjectId, day, c: { att: emptyAttendance(), journal: emptyJournal() } };
      this.daily.set(k, f);
    }
    fn(f.c);
  }

  touch(
    studentId: string,
    startYear: number,
    term: number,
    subjectId: string,
    fallback: Scope,
  ): void {
    const k = `${studentId}|${startYear}|${term}`;
    const t = this.touched.get(k) ?? {
      studentId,
      startYear,
      term,
      subjects: new Map<string, Scope>(),
    };
    this.touched.set(k, t);
    if (!t.subjects.has(subjectId)) t.subjects.set(subjectId, fallback);
  }
}
