import type { Entry } from "../domain/metrics/values.js";
import { AttendanceBuffer } from "./attendance-buffer.js";
import type { Attribution } from "./attribution.js";
import type { Deltas, NewMark } from "./deltas.js";
import type { StoredLesson } from "./lessons.js";
import { type Results, type Standing, toEntryValue } from "./pupils.js";
import type { Q } from "./query.js";
import { nonZero, pgArray } from "./write-deltas.js";

/*
 * A rebuild keeps the aggregates in memory as absolute values from its first batch to its
 * last (ApplyContext.carry: the build schema is written by nothing else). A day close then
 * costs no SQL: the day's deltas are added here (the same deltas, computed by the same
 * handlers, that live adds in PostgreSQL) and the rows changed that day are snapshotted here;
 * each batch's flush writes the rows it changed (absolute counters, dirty flag) and its
 * snapshots, a statement a batch instead of two a day.
 */

interface Row {
  key: readonly unknown[];
  /** The row's counter columns (perf, standing: one; daily: attendance and journal). */
  cols: number[][];
}

/** One aggregate table and its snapshot table, as the live upserts and day closes leave them. */
class AbsoluteTable {
  readonly rows = new Map<string, Row>();
  /** Changed since the last day closed: the live `dirty` flag. */
  private readonly dirty = new Set<string>();
  /** Rows whose counters or dirty flag the batch changed: written by its flush. */
  private readonly changed = new Set<string>();
  /** Snapshot rows not written yet: key, known_day, counter columns. */
  private snapshots: unknown[][] = [];

  /** Adds a delta (live: `counters = counters + delta`); an all-zero delta changes nothing, as live. */
  add(k: string, key: readonly unknown[], delta: number[][]): void {
    if (!delta.some(nonZero)) return;
    let row = this.rows.get(k);
    if (!row) {
      row = { key, cols: delta.map((c) => new Array<number>(c.length).fill(0)) };
      this.rows.set(k, row);
    }
    delta.forEach((c, i) => {
      const to = row.cols[i] as number[];
      for (let j = 0; j < c.length; j++) to[j] = (to[j] ?? 0) + (c[j] as number);
    });
    this.dirty.add(k);
    this.changed.add(k);
  }

  /** The day-close of day-close.ts: each dirty row copied as it stands, the flag cleared. */
  close(day: string): void {
    for (const k of this.dirty) {
      const row = this.rows.get(k) as Row;
      this.snapshots.push([...row.key, day, ...row.cols.map((c) => [...c])]);
      this.changed.add(k);
    }
    this.dirty.clear();
  }

  /** The batch's changed rows (key, counter columns as array literals, dirty) and snapshots. */
  take(): { rows: unknown[][]; snapshots: unknown[][] } {
    const rows = [...this.changed].map((k) => {
      const r = this.rows.get(k) as Row;
      return [...r.key, ...r.cols.map(pgArray), this.dirty.has(k)];
    });
    this.changed.clear();
    const snapshots = this.snapshots.map((s) =>
      s.map((v) => (Array.isArray(v) ? pgArray(v as number[]) : v)),
    );
    this.snapshots = [];
    return { rows, snapshots };
  }
}

const columns = (rows: unknown[][], width: number) =>
  Array.from({ length: width }, (_, i) => rows.map((r) => r[i]));

/** What a rebuild keeps between its batches (see the file comment). */
export class RebuildMemory {
  readonly perf = new AbsoluteTable();
  readonly standing = new AbsoluteTable();
  readonly daily = new AbsoluteTable();
  /** Attendance facts of the whole rebuild: what it does not hold, the build schema has not. */
  readonly attendance = new AttendanceBuffer(true);
  /**
   * Every lesson the rebuild has written or read: a lesson conducted in a later batch than
   * it was scheduled in (most, in batches of 10,000) changes in memory, not by an UPDATE.
   */
  readonly lessons = new Map<string, StoredLesson>();
  /**
   * Every mark of the rebuild, by id and by pupil, subject and year in arrival order (the
   * order of their `seq`): a day close takes the touched pupils' entries from here, and a
   * correction of a mark written by an earlier batch changes it here and is written back by
   * the flush (`changedMarks`).
   */
  readonly marks = new Map<string, NewMark>();
  private readonly marksOf = new Map<string, NewMark[]>();
  readonly changedMarks = new Set<NewMark>();

  addMark(m: NewMark): void {
    if (this.marks.has(m.mark_id)) return; // as the insert's ON CONFLICT DO NOTHING
    this.marks.set(m.mark_id, m);
    const k = `${m.student_id}|${m.subject_id}|${m.start_year}`;
    const list = this.marksOf.get(k);
    if (list) list.push(m);
    else this.marksOf.set(k, [m]);
    if (m.revoked) return;
    const entry = { value: toEntryValue(m.value), weight: m.weight };
    this.entries.get(`${k}|${m.term}`)?.push(entry);
    if (m.term !== 0) this.entries.get(`${k}|0`)?.push(entry);
  }

  /** The pupil's marks in the subject and year, revoked ones included, in `seq` order. */
  marksOfPupil(studentId: string, subjectId: string, startYear: number): readonly NewMark[] {
    return this.marksOf.get(`${studentId}|${subjectId}|${startYear}`) ?? [];
  }

  /**
   * The current entries of a pupil's subject in a term (0: the year) in `seq` order, as a
   * recompute reads them: made once and kept (a pupil is recomputed at every day close that
   * touches them), appended to by `addMark`, made again after `markChanged`.
   */
  private readonly entries = new Map<string, Entry[]>();

  entriesOf(
    studentId: string,
    subjectId: string,
    startYear: number,
    term: number,
  ): readonly Entry[] {
    const k = `${studentId}|${subjectId}|${startYear}|${term}`;
    let list = this.entries.get(k);
    if (!list) {
      list = [];
      for (const m of this.marksOfPupil(studentId, subjectId, startYear))
        if (!m.revoked && (term === 0 || m.term === term))
          list.push({ value: toEntryValue(m.value), weight: m.weight });
      this.entries.set(k, list);
    }
    return list;
  }

  /** A held mark's value or revocation changed: its entry lists are made again. */
  markChanged(m: NewMark): void {
    const k = `${m.student_id}|${m.subject_id}|${m.start_year}`;
    this.entries.delete(`${k}|${m.term}`);
    this.entries.delete(`${k}|0`);
  }

  /** The corrected or revoked marks of earlier batches, written back (once a batch). */
  async writeChangedMarks(q: Q): Promise<void> {
    if (this.changedMarks.size === 0) return;
    const ms = [...this.changedMarks];
    this.changedMarks.clear();
    await q(
      `UPDATE $S.marks m SET value = x.v, revoked = x.r
         FROM unnest($1::text[], $2::text[], $3::bool[]) AS x(id, v, r) WHERE m.mark_id = x.id`,
      [ms.map((m) => m.mark_id), ms.map((m) => m.value), ms.map((m) => m.revoked)],
    );
  }
  /**
   * Pupils' attributions by `attributionKey`, read once and kept until a replica event
   * (enrollments, class groups, terms are what they are computed from): a pupil touched on
   * many days is attributed once instead of at every day close.
   */
  readonly attributions = new Map<string, Attribution>();
  /**
   * Every pupil's results and standing the rebuild computed (its `pupil_results` and
   * `pupil_standing` rows, by the keys of pupils.ts): a recompute's previous values.
   */
  readonly results = new Map<string, Results>();
  readonly standings = new Map<string, Standing>();
  /** The replicas a recompute reads: gradings by subject, term marks, exemptions. */
  readonly gradings = new Map<string, string>();
  readonly termMarks = new Map<string, string>();
  private readonly exemptionIds = new Set<string>();
  private readonly exemptions = new Map<string, [string, string][]>();

  /** As `INSERT ... ON CONFLICT (exemption_id) DO NOTHING`. */
  addExemption(
    id: string,
    student: string,
    subject: string,
    year: number,
    from: string,
    to: string,
  ) {
    if (this.exemptionIds.has(id)) return;
    this.exemptionIds.add(id);
    const k = `${student}|${subject}|${year}`;
    const list = this.exemptions.get(k);
    if (list) list.push([from, to]);
    else this.exemptions.set(k, [[from, to]]);
  }

  exemptionsOf(student: string, subject: string, year: number): [string, string][] {
    return this.exemptions.get(`${student}|${subject}|${year}`) ?? [];
  }

  /** Every pupil_results row the rebuild made, as [subject, term] per `student|year`. */
  private readonly resultRows = new Map<string, Map<string, [string, number]>>();

  noteResult(studentId: string, startYear: number, subjectId: string, term: number): void {
    const k = `${studentId}|${startYear}`;
    let rows = this.resultRows.get(k);
    if (!rows) {
      rows = new Map();
      this.resultRows.set(k, rows);
    }
    rows.set(`${subjectId}|${term}`, [subjectId, term]);
  }

  /** What `SELECT subject_id, term FROM pupil_results WHERE student_id, start_year` returns. */
  resultsOf(studentId: string, startYear: number): Iterable<[string, number]> {
    return this.resultRows.get(`${studentId}|${startYear}`)?.values() ?? [];
  }

  /** The recorded-time clock's open day once a batch has moved it (undefined: read it). */
  openDay: string | undefined;

  /** Batches flushed so far (the fallback's log says after which, rebuild-budget.ts). */
  batches = 0;

  /** How many entries of each kind it holds (rebuild-budget.ts weighs them). */
  held(): Record<HeldKind, number> {
    const a = this.attendance.held();
    return {
      marks: this.marks.size,
      lessons: this.lessons.size,
      results: this.results.size,
      standings: this.standings.size,
      attributions: this.attributions.size,
      perfRows: this.perf.rows.size,
      standingRows: this.standing.rows.size,
      dailyRows: this.daily.rows.size,
      absenceLessons: a.lessons,
      pupilDays: a.days,
      memberships: a.memberships,
      termMarks: this.termMarks.size,
      exemptions: this.exemptionIds.size,
    };
  }

  /** Takes the batch's deltas so far (cleared in `d`) into the absolute rows. */
  addDeltas(d: Deltas): void {
    for (const [k, { key, cols }] of d.perfTotals()) this.perf.add(k, key, cols);
    for (const [k, { key, cols }] of d.standingTotals()) this.standing.add(k, key, cols);
    for (const [k, { key, cols }] of d.dailyTotals()) this.daily.add(k, key, cols);
    d.clearAggregates();
  }

  closeDay(day: string): void {
    this.perf.close(day);
    this.standing.close(day);
    this.daily.close(day);
  }

  /** The rows the batch changed and its snapshots, in one statement. */
  async write(q: Q): Promise<void> {
    const p = this.perf.take();
    const s = this.standing.take();
    const d = this.daily.take();
    const n =
      p.rows.length +
      s.rows.length +
      d.rows.length +
      p.snapshots.length +
      s.snapshots.length +
      d.snapshots.length;
    if (n === 0) return;
    await q(
      `WITH p AS (
         INSERT INTO $S.perf (level, scope_id, start_year, term, subject_id, counters, dirty)
         SELECT l, sc, y, t, su, c::bigint[], dt
           FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::bool[]) AS x(l, sc, y, t, su, c, dt)
         ON CONFLICT (level, scope_id, start_year, term, subject_id)
         DO UPDATE SET counters = excluded.counters, dirty = excluded.dirty),
       st AS (
         INSERT INTO $S.standing (level, scope_id, start_year, term, counters, dirty)
         SELECT l, sc, y, t, c::bigint[], dt
           FROM unnest($8::text[], $9::text[], $10::int[], $11::int[], $12::text[], $13::bool[]) AS x(l, sc, y, t, c, dt)
         ON CONFLICT (level, scope_id, start_year, term)
         DO UPDATE SET counters = excluded.counters, dirty = excluded.dirty),
       d AS (
         INSERT INTO $S.daily (level, scope_id, subject_id, day, attendance, journal, dirty)
         SELECT l, sc, su, day, a::bigint[], j::bigint[], dt
           FROM unnest($14::text[], $15::text[], $16::text[], $17::date[], $18::text[], $19::text[], $20::bool[])
             AS x(l, sc, su, day, a, j, dt)
         ON CONFLICT (level, scope_id, subject_id, day)
         DO UPDATE SET attendance = excluded.attendance, journal = excluded.journal, dirty = excluded.dirty),
       ph AS (
         INSERT INTO $S.perf_h (level, scope_id, start_year, term, subject_id, known_day, counters)
         SELECT l, sc, y, t, su, k, c::bigint[]
           FROM unnest($21::text[], $22::text[], $23::int[], $24::int[], $25::text[], $26::date[], $27::text[])
             AS x(l, sc, y, t, su, k, c)),
       sh AS (
         INSERT INTO $S.standing_h (level, scope_id, start_year, term, known_day, counters)
         SELECT l, sc, y, t, k, c::bigint[]
           FROM unnest($28::text[], $29::text[], $30::int[], $31::int[], $32::date[], $33::text[]) AS x(l, sc, y, t, k, c))
       INSERT INTO $S.daily_h (level, scope_id, subject_id, day, known_day, attendance, journal)
       SELECT l, sc, su, day, k, a::bigint[], j::bigint[]
         FROM unnest($34::text[], $35::text[], $36::text[], $37::date[], $38::date[], $39::text[], $40::text[])
           AS x(l, sc, su, day, k, a, j)`,
      [
        ...columns(p.rows, 7),
        ...columns(s.rows, 6),
        ...columns(d.rows, 7),
        ...columns(p.snapshots, 7),
        ...columns(s.snapshots, 6),
        ...columns(d.snapshots, 7),
      ],
    );
  }
}

export const termMarkKey = (student: string, subject: string, year: number, term: number) =>
  `${student}|${subject}|${year}|${term}`;

export type HeldKind =
  | "marks"
  | "lessons"
  | "results"
  | "standings"
  | "attributions"
  | "perfRows"
  | "standingRows"
  | "dailyRows"
  | "absenceLessons"
  | "pupilDays"
  | "memberships"
  | "termMarks"
  | "exemptions";

/** A carry's memory; null once released (the rebuild goes on the live way). */
const memories = new WeakMap<object, RebuildMemory | null>();

/**
 * The rebuild's memory in its carry object (made on its first batch); undefined once
 * released: the batch then reads and writes the tables as a live batch does.
 */
export function rebuildMemory(carry: object): RebuildMemory | undefined {
  let m = memories.get(carry);
  if (m === null) return undefined;
  if (!m) {
    m = new RebuildMemory();
    memories.set(carry, m);
  }
  return m;
}

/**
 * Drops the memory for the rest of the rebuild. Only at a batch's end, after its flush:
 * the tables then hold everything the memory did (each flush writes what its batch
 * changed), which is what the live way reads.
 */
export function releaseRebuildMemory(carry: object): void {
  memories.set(carry, null);
}
