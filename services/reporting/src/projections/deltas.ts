import { type AllSubjectsCounters, emptyAllSubjects } from "../domain/metrics/all-subjects.js";
import { type AttendanceCounters, emptyAttendance } from "../domain/metrics/attendance.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import { emptyJournal, type JournalCounters } from "../domain/metrics/journal-fill.js";
import { emptyPerformance, type PerformanceCounters } from "../domain/metrics/performance.js";
import { AttendanceBuffer } from "./attendance-buffer.js";
import type { PerfRowCounters, StandingRowCounters } from "./counters-codec.js";
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
// Hot path (8-16 rows an event): made once per distinct scope, not per row.
const levelKeyCache = new Map<string, LevelKey[]>();

function levelKeys(s: Scope): LevelKey[] {
  const k = `${s.classGroupId}|${s.schoolId}|${s.municipalityId}`;
  let keys = levelKeyCache.get(k);
  if (!keys) {
    if (levelKeyCache.size > 10_000) levelKeyCache.clear();
    keys = levelsOf(s).map(([level, id]): LevelKey => [level, id, `${level}|${id}|`]);
    levelKeyCache.set(k, keys);
  }
  return keys;
}

interface Keyed<K, C> {
  key: K;
  c: C;
}
/** A perf row: level, scope, year, term, subject (both bases in the row, counters-codec.ts). */
export type PerfKey = [Level, string, number, number, string];
/** A standing row: level, scope, year, term (both bases in the row). */
export type StandingKey = [Level, string, number, number];
export type DailyKey = [Level, string, string, string];

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
  readonly perf = new Map<string, Keyed<PerfKey, PerfRowCounters>>();
  readonly standing = new Map<string, Keyed<StandingKey, StandingRowCounters>>();
  readonly daily = new Map<
    string,
    Keyed<DailyKey, { att: AttendanceCounters; journal: JournalCounters }>
  >();
  readonly touched = new Map<string, Touched>();
  readonly changedPupils = new Set<string>();
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
    this.perf.clear();
    this.standing.clear();
    this.daily.clear();
    this.touched.clear();
    if (!this.rebuild) this.newMarks.clear();
  }

  /**
   * Applies `fn` to the pupil-result counters of `basis` at every level of `scope`, for the
   * subject and for all subjects.
   */
  perfAt(
    scope: Scope,
    startYear: number,
    term: number,
    subjectId: string,
    basis: ResultBasis,
    fn: (c: PerformanceCounters) => void,
  ): void {
    this.perfRows(scope, startYear, term, subjectId, (r) => {
      let c = r[basis];
      if (!c) {
        c = emptyPerformance();
        r[basis] = c;
      }
      fn(c);
    });
  }

  /** Applies `fn` to the entry counters (the same under both bases) at every level of `scope`. */
  entriesAt(
    scope: Scope,
    startYear: number,
    term: number,
    subjectId: string,
    fn: (c: PerformanceCounters) => void,
  ): void {
    this.perfRows(scope, startYear, term, subjectId, (r) => {
      if (!r.entries) r.entries = emptyPerformance();
      fn(r.entries);
    });
  }

  private perfRows(
    scope: Scope,
    startYear: number,
    term: number,
    subjectId: string,
    fn: (r: PerfRowCounters) => void,
  ): void {
    const tail = `${startYear}|${term}|`;
    const own = tail + subjectId;
    const all = tail + ALL_SUBJECTS;
    for (const [level, id, prefix] of levelKeys(scope)) {
      for (let i = 0; i < 2; i++) {
        // Hot path (16 rows a mark): build the key array only on a miss.
        const k = prefix + (i === 0 ? own : all);
        let entry = this.perf.get(k);
        if (!entry) {
          const subject = i === 0 ? subjectId : ALL_SUBJECTS;
          entry = { key: [level, id, startYear, term, subject], c: {} };
          this.perf.set(k, entry);
        }
        fn(entry.c);
      }
    }
  }

  standingAt(
    scope: Scope,
    startYear: number,
    term: number,
    basis: ResultBasis,
    fn: (c: AllSubjectsCounters) => void,
  ) {
    const tail = `${startYear}|${term}`;
    for (const [level, id, prefix] of levelKeys(scope)) {
      const k = prefix + tail;
      let entry = this.standing.get(k);
      if (!entry) {
        entry = { key: [level, id, startYear, term], c: {} };
        this.standing.set(k, entry);
      }
      let c = entry.c[basis];
      if (!c) {
        c = emptyAllSubjects();
        entry.c[basis] = c;
      }
      fn(c);
    }
  }

  /** Daily counters for the subject and for all subjects (`subjectOnly` false) or all subjects only. */
  dailyAt(
    scope: Scope,
    subjectId: string | null,
    day: string,
    fn: (c: { att: AttendanceCounters; journal: JournalCounters }) => void,
  ): void {
    const all = `${ALL_SUBJECTS}|${day}`;
    const own = subjectId === null ? all : `${subjectId}|${day}`;
    for (const [level, id, prefix] of levelKeys(scope)) {
      for (let i = subjectId === null ? 1 : 0; i < 2; i++) {
        const subject = i === 0 ? (subjectId as string) : ALL_SUBJECTS;
        // Hot path (8 rows a journal entry): build the key array only on a miss.
        const k = prefix + (i === 0 ? own : all);
        let entry = this.daily.get(k);
        if (!entry) {
          entry = {
            key: [level, id, subject, day],
            c: { att: emptyAttendance(), journal: emptyJournal() },
          };
          this.daily.set(k, entry);
        }
        fn(entry.c);
      }
    }
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
