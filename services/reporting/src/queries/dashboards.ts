import { invalidInput } from "../domain/errors.js";
import {
  type AllSubjectsFigures,
  allSubjectsFigures,
  emptyAllSubjects,
} from "../domain/metrics/all-subjects.js";
import { type AttendanceFigures, attendanceFigures } from "../domain/metrics/attendance.js";
import {
  definitionSet,
  LIVE_DEFINITION_VERSION,
  labelled,
} from "../domain/metrics/definition-sets.js";
import type { MetricsConfig, ResultBasis } from "../domain/metrics/definitions.js";
import type { Figure } from "../domain/metrics/figure.js";
import { type JournalFigures, journalFigures } from "../domain/metrics/journal-fill.js";
import {
  emptyPerformance,
  type PerformanceFigures,
  performanceFigures,
} from "../domain/metrics/performance.js";
import { programmeDelivery } from "../domain/metrics/programme.js";
import {
  attendanceFromArray,
  journalFromArray,
  perfFromArray,
  standingFromArray,
} from "../projections/counters-codec.js";
import { ALL_SUBJECTS, type Level } from "../projections/deltas.js";
import { effectiveCounters } from "./effective.js";
import { type Period, type ResolvedPeriod, resolvePeriod } from "./periods.js";
import type { ReadDb } from "./read-db.js";

export const LEVELS: readonly Level[] = ["CLASS_GROUP", "SCHOOL", "MUNICIPALITY", "REGION"];

export interface DashboardQuery {
  readonly level: Level;
  readonly scopeId: string;
  readonly startYear: number;
  /** A subject id, or "*" / "" for all subjects. */
  readonly subjectId: string;
  readonly period: Period;
  /** The day "to date" figures stop at (journal fill, attendance). */
  readonly asOf: string;
  readonly basis?: ResultBasis | undefined;
  /**
   * How as-of reads: absent = the current state ("to date" figures stop at asOf);
   * RECORDED = what was known at the end of asOf (daily snapshots); EFFECTIVE = what is
   * known now about lessons up to asOf (recomputed from the journal facts).
   */
  readonly mode?: AsOfMode | undefined;
  /** The definition set to compute under; 0/absent = the live one. */
  readonly definitionVersion?: number | undefined;
}

export type AsOfMode = "RECORDED" | "EFFECTIVE";

export interface Dashboard {
  readonly query: DashboardQuery;
  readonly period: ResolvedPeriod;
  /** null for a date range (pupil figures need a term or the year). */
  readonly performance: PerformanceFigures | null;
  /**
   * The headline quality figure, in the configured variant: per mark, or per pupil (over all
   * subjects the pupils with only 4 and 5, as `allSubjects.qualityRate`).
   */
  readonly quality: Figure | null;
  /** Only for all subjects. */
  readonly allSubjects: AllSubjectsFigures | null;
  readonly attendance: AttendanceFigures;
  readonly journal: JournalFigures;
  /**
   * Lessons conducted with a work-programme topic / lessons the programme planned, over the
   * period's days up to as-of: for one class group and subject (a programme is per grade level
   * and subject); null elsewhere or without an approved programme.
   */
  readonly programmeDelivery: Figure | null;
  readonly definitionVersion: number;
  readonly mode: AsOfMode | null;
}

interface Rows {
  perf: string[] | null;
  standing: string[] | null;
  attendance: string[] | null;
  journal: string[] | null;
  programme_hours: number | null;
}

// The live aggregates: one row per figure group, the day rows summed element-wise.
const LIVE_SQL = `WITH days AS (SELECT attendance, journal FROM $S.daily WHERE level = $1 AND scope_id = $2 AND subject_id = $5
                     AND day BETWEEN $6::date AND $7::date)
     SELECT (SELECT counters FROM $S.perf WHERE level = $1 AND scope_id = $2 AND start_year = $3 AND term = $4
               AND subject_id = $5) AS perf,
            (SELECT counters FROM $S.standing WHERE level = $1 AND scope_id = $2 AND start_year = $3 AND term = $4) AS standing,
            ${sumsAndProgramme()}`;

// The same from the daily snapshots: each row's latest snapshot at or before the as-of day
// ($8), or the live rows when that day is still open (not closed by the recorded-time clock).
const RECORDED_SQL = `WITH h AS (SELECT $8::date < coalesce((SELECT day FROM $S.day_clock), '-infinity'::date) AS closed),
     days AS (
       SELECT attendance, journal FROM $S.daily WHERE NOT (SELECT closed FROM h) AND level = $1 AND scope_id = $2
          AND subject_id = $5 AND day BETWEEN $6::date AND $7::date
       UNION ALL
       SELECT attendance, journal FROM (SELECT DISTINCT ON (day) attendance, journal FROM $S.daily_h
          WHERE (SELECT closed FROM h) AND level = $1 AND scope_id = $2 AND subject_id = $5
            AND day BETWEEN $6::date AND $7::date AND known_day <= $8::date ORDER BY day, known_day DESC) x)
     SELECT CASE WHEN (SELECT closed FROM h)
              THEN (SELECT counters FROM $S.perf_h WHERE level = $1 AND scope_id = $2 AND start_year = $3 AND term = $4
                      AND subject_id = $5 AND known_day <= $8::date ORDER BY known_day DESC LIMIT 1)
              ELSE (SELECT counters FROM $S.perf WHERE level = $1 AND scope_id = $2 AND start_year = $3 AND term = $4
                      AND subject_id = $5) END AS perf,
            CASE WHEN (SELECT closed FROM h)
              THEN (SELECT counters FROM $S.standing_h WHERE level = $1 AND scope_id = $2 AND start_year = $3
                      AND term = $4 AND known_day <= $8::date ORDER BY known_day DESC LIMIT 1)
              ELSE (SELECT counters FROM $S.standing WHERE level = $1 AND scope_id = $2 AND start_year = $3
                      AND term = $4) END AS standing,
            ${sumsAndProgramme()}`;

function sumsAndProgramme(): string {
  return `(SELECT array_agg(v ORDER BY i) FROM (SELECT i, sum(x) AS v FROM days, unnest(days.attendance)
               WITH ORDINALITY AS u(x, i) GROUP BY i) a) AS attendance,
            (SELECT array_agg(v ORDER BY i) FROM (SELECT i, sum(x) AS v FROM days, unnest(days.journal)
               WITH ORDINALITY AS u(x, i) GROUP BY i) j) AS journal,
            (SELECT p.hours FROM $S.programmes p JOIN $S.class_groups c ON c.school_id = p.school_id
               AND c.start_year = p.start_year AND c.grade_level = p.grade_level
              WHERE $1 = 'CLASS_GROUP' AND c.class_group_id = $2 AND p.subject_id = $5 AND p.approved
              ORDER BY p.version DESC LIMIT 1) AS programme_hours`;
}

/**
 * A dashboard reads one aggregate row per figure group and at most a year of day rows,
 * whatever the number of marks behind it: the cost is flat in the data volume.
 */
export async function dashboard(
  db: ReadDb,
  config: MetricsConfig,
  q: DashboardQuery,
): Promise<Dashboard> {
  if (!LEVELS.includes(q.level)) throw invalidInput("level", `must be one of ${LEVELS.join(", ")}`);
  if (!q.scopeId) throw invalidInput("scopeId", "is required");
  if (!Number.isInteger(q.startYear) || q.startYear < 2000)
    throw invalidInput("academicYear", "is required");
  const subject = q.subjectId || ALL_SUBJECTS;
  const period = await resolvePeriod(
    db,
    q.level,
    q.scopeId,
    q.startYear,
    q.period,
    q.asOf,
    q.basis,
  );
  const to = [period.to, q.asOf].sort()[0] as string; // civil dates compare as text
  const set = definitionSet(config.definitionSets ?? [], q.definitionVersion ?? 0);
  if (q.mode === "RECORDED" && set.version !== LIVE_DEFINITION_VERSION) {
    throw invalidInput(
      "definitionVersion",
      `recorded mode is served under the live version ${LIVE_DEFINITION_VERSION} only (use EFFECTIVE for version ${set.version})`,
    );
  }
  const params = [q.level, q.scopeId, q.startYear, period.term ?? -1, subject];
  const recorded = q.mode === "RECORDED";
  // Pupil and mark figures are recomputed for the effective mode and under another version.
  const recompute =
    period.term !== null && (q.mode === "EFFECTIVE" || set.version !== LIVE_DEFINITION_VERSION);
  const [[fetched], computed] = await Promise.all([
    recorded
      ? db.prepared<Rows>("reporting-dashboard-recorded", RECORDED_SQL, [
          ...params,
          period.from,
          to,
          q.asOf,
        ])
      : db.prepared<Rows>("reporting-dashboard", LIVE_SQL, [...params, period.from, to]),
    recompute
      ? effectiveCounters(db, {
          level: q.level,
          scopeId: q.scopeId,
          startYear: q.startYear,
          term: period.term ?? 0,
          subjectId: subject,
          basis: period.basis,
          // Under another version without an as-of mode: everything known now.
          asOf: q.mode === "EFFECTIVE" ? q.asOf : "9999-12-31",
          weights: set.weights,
        })
      : Promise.resolve(null),
  ]);
  const row = fetched;
  const nums = (a: string[] | null | undefined) => (a ?? []).map(Number);
  const att = attendanceFromArray(nums(row?.attendance));
  const journal = journalFromArray(nums(row?.journal));
  const perfCounters =
    computed?.perf ??
    (row?.perf ? perfFromArray(nums(row.perf), period.basis) : emptyPerformance());
  const standingCounters =
    computed?.standing ??
    (row?.standing ? standingFromArray(nums(row.standing), period.basis) : emptyAllSubjects());
  const performance = period.term === null ? null : performanceFigures(perfCounters, period.basis);
  const allSubjects =
    period.term === null || subject !== ALL_SUBJECTS
      ? null
      : allSubjectsFigures(standingCounters, period.basis);
  return labelled<Dashboard>(
    {
      query: q,
      period,
      performance,
      // Per pupil over all subjects is domain.md's "pupils with only 4 and 5", not the
      // subjects' results summed (performance.qualityPerPupil of the all-subjects row).
      quality: performance
        ? config.qualityVariant === "PER_MARK"
          ? performance.qualityPerMark
          : (allSubjects?.qualityRate ?? performance.qualityPerPupil)
        : null,
      allSubjects,
      attendance: attendanceFigures(att),
      journal: journalFigures(journal, config.timelinessDays),
      programmeDelivery:
        row?.programme_hours == null
          ? null
          : programmeDelivery([
              {
                programmeHours: row.programme_hours,
                lessonsScheduledToDate: journal.lessonsScheduled,
                conductedWithTopic: journal.lessonsDelivered,
              },
            ]),
      definitionVersion: set.version,
      mode: q.mode ?? null,
    },
    set.version,
  );
}
