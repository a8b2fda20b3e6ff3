import { type Kysely, sql } from "kysely";

/*
 * The read model's tables (schema proj_reporting). Replicas of identity and curriculum facts,
 * the journal facts of grades (for the diary and journal views, always read per pupil or per
 * journal), and the incremental aggregates the dashboards read:
 * - pupil_results / pupil_standing: each pupil's current contribution (per subject / across
 *   subjects), so a change moves the pupil from one bucket to another;
 * - perf / standing: additive counters per level (CLASS_GROUP, SCHOOL, MUNICIPALITY, REGION),
 *   scope id, academic year, term (0 = the year) and subject ('*' = all), both bases in a row;
 * - daily: attendance and journal-fill counters per level, scope, subject and day (date
 *   ranges sum at most a year of days, whatever the volume).
 * Date ranges are [first_day, until): `until` exclusive, null = open.
 * perf_h / standing_h / daily_h: daily snapshots of the aggregates (see day-close.ts); the
 * `dirty` flag marks a live row changed since the last day closed.
 */
export async function createTables(db: Kysely<unknown>, schema: string): Promise<void> {
  const t = (name: string) => sql.id(schema, name);
  const ddl = [
    // Names (not personal data) for the statutory export; '' until an event names it.
    sql`CREATE TABLE ${t("schools")} (school_id text PRIMARY KEY, municipality_id text NOT NULL,
      time_zone text NOT NULL, name text NOT NULL DEFAULT '')`,
    sql`CREATE TABLE ${t("municipalities")} (municipality_id text PRIMARY KEY, name text NOT NULL)`,
    sql`CREATE TABLE ${t("class_groups")} (class_group_id text PRIMARY KEY, school_id text NOT NULL,
      municipality_id text NOT NULL, start_year integer NOT NULL, grade_level smallint NOT NULL)`,
    sql`CREATE TABLE ${t("enrollments")} (person_id text NOT NULL, class_group_id text NOT NULL,
      first_day date NOT NULL, until date, seq bigserial, PRIMARY KEY (person_id, class_group_id, first_day))`,
    sql`CREATE INDEX ON ${t("enrollments")} (class_group_id, first_day)`,
    sql`CREATE TABLE ${t("subgroups")} (subgroup_id text PRIMARY KEY, class_group_id text NOT NULL,
      subject_id text NOT NULL)`,
    sql`CREATE TABLE ${t("subgroup_members")} (person_id text NOT NULL, subgroup_id text NOT NULL,
      first_day date NOT NULL, until date, PRIMARY KEY (subgroup_id, person_id, first_day))`,
    sql`CREATE TABLE ${t("guardians")} (guardian_id text NOT NULL, student_id text NOT NULL,
      PRIMARY KEY (guardian_id, student_id))`,
    sql`CREATE TABLE ${t("subjects")} (subject_id text PRIMARY KEY, grading text NOT NULL,
      name text NOT NULL DEFAULT '')`,
    sql`CREATE TABLE ${t("terms")} (school_id text NOT NULL, start_year integer NOT NULL,
      grade_level smallint NOT NULL, term smallint NOT NULL, first_day date NOT NULL, last_day date NOT NULL,
      kind text NOT NULL DEFAULT '', PRIMARY KEY (school_id, start_year, grade_level, term))`,
    sql`CREATE TABLE ${t("programmes")} (school_id text NOT NULL, start_year integer NOT NULL,
      grade_level smallint NOT NULL, subject_id text NOT NULL, version integer NOT NULL, hours integer NOT NULL,
      approved boolean NOT NULL DEFAULT false, PRIMARY KEY (school_id, start_year, grade_level, subject_id, version))`,
    sql`CREATE TABLE ${t("lessons")} (lesson_id text PRIMARY KEY, school_id text NOT NULL,
      municipality_id text NOT NULL, start_year integer NOT NULL, class_group_id text NOT NULL,
      subgroup_id text NOT NULL, subject_id text NOT NULL, lesson_date date NOT NULL, period smallint NOT NULL,
      term smallint NOT NULL, status text NOT NULL, topic text NOT NULL DEFAULT '',
      homework text NOT NULL DEFAULT '', homework_due text NOT NULL DEFAULT '',
      wp_item text NOT NULL DEFAULT '', attendance_taken boolean NOT NULL DEFAULT false,
      roll jsonb NOT NULL DEFAULT '[]', attendance_entries jsonb NOT NULL DEFAULT '[]')`,
    sql`CREATE INDEX ON ${t("lessons")} (class_group_id, lesson_date)`,
    sql`CREATE TABLE ${t("marks")} (mark_id text PRIMARY KEY, seq bigserial, journal_id text NOT NULL,
      school_id text NOT NULL, municipality_id text NOT NULL, start_year integer NOT NULL,
      class_group_id text NOT NULL, subgroup_id text NOT NULL, subject_id text NOT NULL,
      term smallint NOT NULL, lesson_id text NOT NULL, lesson_date date NOT NULL, student_id text NOT NULL,
      value text NOT NULL, weight integer NOT NULL, work_type text NOT NULL, revoked boolean NOT NULL DEFAULT false)`,
    sql`CREATE INDEX ON ${t("marks")} (student_id, subject_id, start_year, term)`,
    sql`CREATE INDEX ON ${t("marks")} (journal_id, term)`,
    // Effective-mode dashboards find a scope's marks by class group (queries/effective.ts).
    sql`CREATE INDEX ON ${t("marks")} (class_group_id, start_year, term)`,
    sql`CREATE TABLE ${t("absences")} (lesson_id text NOT NULL, student_id text NOT NULL,
      reason text NOT NULL, late_minutes integer NOT NULL, PRIMARY KEY (lesson_id, student_id))`,
    sql`CREATE TABLE ${t("term_marks")} (student_id text NOT NULL, subject_id text NOT NULL,
      start_year integer NOT NULL, term smallint NOT NULL, journal_id text NOT NULL, class_group_id text NOT NULL,
      subgroup_id text NOT NULL, value text NOT NULL, PRIMARY KEY (student_id, subject_id, start_year, term))`,
    sql`CREATE INDEX ON ${t("term_marks")} (class_group_id, subject_id, start_year)`,
    sql`CREATE TABLE ${t("exemptions")} (exemption_id text PRIMARY KEY, student_id text NOT NULL,
      subject_id text NOT NULL, start_year integer NOT NULL, first_day date NOT NULL, last_day date NOT NULL)`,
    sql`CREATE INDEX ON ${t("exemptions")} (student_id, subject_id, start_year)`,
    sql`CREATE TABLE ${t("pupil_results")} (student_id text NOT NULL, subject_id text NOT NULL,
      start_year integer NOT NULL, term smallint NOT NULL, scope jsonb, current jsonb NOT NULL,
      period jsonb NOT NULL, PRIMARY KEY (student_id, start_year, term, subject_id))`,
    // No index on scope: each mark upserts these rows, and scope indexes (on expressions or
    // stored columns) made the live lag p99 ~4x longer. Effective-mode dashboards find a
    // scope's population through enrollments and this key instead.
    sql`CREATE TABLE ${t("pupil_standing")} (student_id text NOT NULL, start_year integer NOT NULL,
      term smallint NOT NULL, scope jsonb, current jsonb NOT NULL, period jsonb NOT NULL,
      PRIMARY KEY (student_id, start_year, term))`,
    // Both result bases in one row (counters-codec.ts): a mark upserts half the rows.
    sql`CREATE TABLE ${t("perf")} (level text NOT NULL, scope_id text NOT NULL, start_year integer NOT NULL,
      term smallint NOT NULL, subject_id text NOT NULL, counters bigint[] NOT NULL,
      dirty boolean NOT NULL DEFAULT true, PRIMARY KEY (level, scope_id, start_year, term, subject_id))`,
    sql`CREATE TABLE ${t("standing")} (level text NOT NULL, scope_id text NOT NULL, start_year integer NOT NULL,
      term smallint NOT NULL, counters bigint[] NOT NULL,
      dirty boolean NOT NULL DEFAULT true, PRIMARY KEY (level, scope_id, start_year, term))`,
    sql`CREATE TABLE ${t("daily")} (level text NOT NULL, scope_id text NOT NULL, subject_id text NOT NULL,
      day date NOT NULL, attendance bigint[] NOT NULL, journal bigint[] NOT NULL,
      dirty boolean NOT NULL DEFAULT true, PRIMARY KEY (level, scope_id, subject_id, day))`,
    // Daily snapshots (day-close.ts): the aggregate rows as they stood at the end of
    // known_day, written for the rows that changed that day; immutable once written.
    sql`CREATE TABLE ${t("perf_h")} (level text NOT NULL, scope_id text NOT NULL, start_year integer NOT NULL,
      term smallint NOT NULL, subject_id text NOT NULL, known_day date NOT NULL,
      counters bigint[] NOT NULL, PRIMARY KEY (level, scope_id, start_year, term, subject_id, known_day))`,
    sql`CREATE TABLE ${t("standing_h")} (level text NOT NULL, scope_id text NOT NULL, start_year integer NOT NULL,
      term smallint NOT NULL, known_day date NOT NULL, counters bigint[] NOT NULL,
      PRIMARY KEY (level, scope_id, start_year, term, known_day))`,
    sql`CREATE TABLE ${t("daily_h")} (level text NOT NULL, scope_id text NOT NULL, subject_id text NOT NULL,
      day date NOT NULL, known_day date NOT NULL, attendance bigint[] NOT NULL, journal bigint[] NOT NULL,
      PRIMARY KEY (level, scope_id, subject_id, day, known_day))`,
    // The open (not yet closed) day of the recorded-time clock: one row.
    sql`CREATE TABLE ${t("day_clock")} (one boolean PRIMARY KEY DEFAULT true CHECK (one), day date NOT NULL)`,
    sql`CREATE TABLE ${t("pupil_days")} (student_id text NOT NULL, day date NOT NULL,
      lessons integer NOT NULL, illness integer NOT NULL, excused integer NOT NULL, unexcused integer NOT NULL,
      PRIMARY KEY (student_id, day))`,
  ];
  // One round trip (no parameters: the simple protocol takes them all): a rebuild creates
  // these while its sources read.
  await sql.raw(ddl.map((stmt) => stmt.compile(db).sql).join(";\n")).execute(db);
}
