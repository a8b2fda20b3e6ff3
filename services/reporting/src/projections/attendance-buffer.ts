import { emptyDay, type PupilDay } from "../domain/metrics/attendance.js";
import type { Q } from "./query.js";

/** A pupil's entry for one lesson: absence reason (or NONE) and minutes late. */
export interface AbsenceMark {
  reason: string;
  late: number;
}

interface Membership {
  person_id: string;
  first_day: string;
  until: string | null;
}

/**
 * The batch's attendance facts in memory (write-behind): a lesson's absences and the pupils'
 * day counters are read at most once a batch, changed here by later events of the batch, and
 * written by `write` in three statements a batch instead of several an event. Memberships are
 * remembered per class group (or subgroup) until an enrollment event of the batch.
 */
export class AttendanceBuffer {
  /**
   * `complete`: the buffer has seen every write to these tables (a rebuild's, kept for all
   * its batches, rebuild-memory.ts), so what it does not hold is not stored: no reads.
   */
  constructor(private readonly complete = false) {}

  /** lesson id -> its absences as they stand after the batch's events so far. */
  private readonly absences = new Map<string, Map<string, AbsenceMark>>();
  private readonly dirtyLessons = new Set<string>();
  /** `${studentId}|${day}` -> the pupil-day as it stands (emptyDay() when not stored). */
  private readonly days = new Map<string, PupilDay>();
  private readonly dirtyDays = new Set<string>();
  /** Memberships per class group (`c|id`) or subgroup (`s|id`), until an enrollment event. */
  private readonly rosters = new Map<string, Membership[]>();

  /** The lesson's absences already known to the batch (undefined: read them from the table). */
  knownAbsences(lessonId: string): Map<string, AbsenceMark> | undefined {
    const known = this.absences.get(lessonId);
    return known || !this.complete ? known : this.rememberAbsences(lessonId, []);
  }

  async absencesOf(q: Q, lessonId: string): Promise<Map<string, AbsenceMark>> {
    const known = this.knownAbsences(lessonId);
    if (known) return known;
    const rows = await q<{ student_id: string; reason: string; late_minutes: number }>(
      "SELECT student_id, reason, late_minutes FROM $S.absences WHERE lesson_id = $1",
      [lessonId],
    );
    const read = new Map(
      rows.map((r) => [r.student_id, { reason: r.reason, late: r.late_minutes }]),
    );
    this.absences.set(lessonId, read);
    return read;
  }

  /** Absences read with another statement (as `[student, reason, late]` triples). */
  rememberAbsences(lessonId: string, rows: [string, string, number][]): Map<string, AbsenceMark> {
    const read = new Map(rows.map(([s, reason, late]) => [s, { reason, late }]));
    this.absences.set(lessonId, read);
    return read;
  }

  setAbsences(lessonId: string, marks: Map<string, AbsenceMark>): void {
    this.absences.set(lessonId, marks);
    this.dirtyLessons.add(lessonId);
  }

  /** The pupils' day counters for `day`, one query for those the batch has not seen. */
  async pupilDays(q: Q, students: string[], day: string): Promise<Map<string, PupilDay>> {
    const missing = students.filter((s) => !this.days.has(`${s}|${day}`));
    if (missing.length > 0 && !this.complete) {
      const rows = await q<PupilDay & { student_id: string }>(
        "SELECT student_id, lessons, illness, excused, unexcused FROM $S.pupil_days WHERE student_id = ANY($1) AND day = $2::date",
        [missing, day],
      );
      for (const s of missing) this.days.set(`${s}|${day}`, emptyDay());
      for (const { student_id, ...p } of rows) this.days.set(`${student_id}|${day}`, p);
    }
    return new Map(students.map((s) => [s, this.days.get(`${s}|${day}`) ?? emptyDay()]));
  }

  setPupilDay(studentId: string, day: string, p: PupilDay): void {
    this.days.set(`${studentId}|${day}`, p);
    this.dirtyDays.add(`${studentId}|${day}`);
  }

  /** Who is on the roll of the class group (or subgroup) on `date`: its memberships read once. */
  async roster(q: Q, classGroupId: string, subgroupId: string, date: string): Promise<string[]> {
    const k = subgroupId ? `s|${subgroupId}` : `c|${classGroupId}`;
    let spans = this.rosters.get(k);
    if (!spans) {
      spans = subgroupId
        ? await q<Membership>(
            `SELECT person_id, first_day::text AS first_day, until::text AS until
               FROM $S.subgroup_members WHERE subgroup_id = $1`,
            [subgroupId],
          )
        : await q<Membership>(
            `SELECT person_id, first_day::text AS first_day, until::text AS until
               FROM $S.enrollments WHERE class_group_id = $1`,
            [classGroupId],
          );
      this.rosters.set(k, spans);
    }
    // ISO dates compare as text.
    return spans
      .filter((m) => m.first_day <= date && (m.until === null || m.until > date))
      .map((m) => m.person_id);
  }

  /** What the buffer holds: lessons' absences, pupil-days, roster memberships. */
  held(): { lessons: number; days: number; memberships: number } {
    let memberships = 0;
    for (const r of this.rosters.values()) memberships += r.length;
    return { lessons: this.absences.size, days: this.days.size, memberships };
  }

  /** An enrollment or subgroup membership changed: rosters are read again. */
  forgetRosters(): void {
    this.rosters.clear();
  }

  /** Writes what the batch changed: the lessons' absences replaced, the pupil-days upserted. */
  async write(q: Q): Promise<void> {
    if (this.dirtyLessons.size > 0) {
      const lessons = [...this.dirtyLessons];
      const rows = lessons.flatMap((l) =>
        [...(this.absences.get(l) ?? [])].map(([s, m]) => [l, s, m.reason, m.late] as const),
      );
      await q("DELETE FROM $S.absences WHERE lesson_id = ANY($1::text[])", [lessons]);
      if (rows.length > 0)
        await q(
          `INSERT INTO $S.absences (lesson_id, student_id, reason, late_minutes)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])`,
          [0, 1, 2, 3].map((i) => rows.map((r) => r[i])),
        );
      this.dirtyLessons.clear();
    }
    if (this.dirtyDays.size > 0) {
      const keys = [...this.dirtyDays];
      const ps = keys.map((k) => this.days.get(k) ?? emptyDay());
      await q(
        `INSERT INTO $S.pupil_days (student_id, day, lessons, illness, excused, unexcused)
         SELECT * FROM unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::int[], $6::int[])
         ON CONFLICT (student_id, day)
         DO UPDATE SET lessons = excluded.lessons, illness = excluded.illness, excused = excluded.excused,
           unexcused = excluded.unexcused`,
        [
          keys.map((k) => k.slice(0, k.lastIndexOf("|"))),
          keys.map((k) => k.slice(k.lastIndexOf("|") + 1)),
          ps.map((p) => p.lessons),
          ps.map((p) => p.illness),
          ps.map((p) => p.excused),
          ps.map((p) => p.unexcused),
        ],
      );
      this.dirtyDays.clear();
    }
  }
}
