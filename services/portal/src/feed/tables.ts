import { type Kysely, sql } from "kysely";

// The read model (schema proj_portal_feed): only what the feed publishes, by ids.
export async function createFeedTables(db: Kysely<unknown>, schema: string): Promise<void> {
  const s = sql.id(schema);
  const ddl = [
    sql`CREATE TABLE ${s}.schools (school_id text PRIMARY KEY, municipality_id text NOT NULL,
      name text NOT NULL, short_name text NOT NULL, closed_on text NOT NULL DEFAULT '')`,
    sql`CREATE TABLE ${s}.class_groups (class_group_id text PRIMARY KEY, school_id text NOT NULL,
      municipality_id text NOT NULL, academic_year int NOT NULL, grade_level int NOT NULL,
      letter text NOT NULL, closed boolean NOT NULL DEFAULT false)`,
    sql`CREATE TABLE ${s}.pupils (person_id text PRIMARY KEY, portal_id text,
      consent boolean NOT NULL DEFAULT false, erased boolean NOT NULL DEFAULT false,
      school_id text, municipality_id text, academic_year int NOT NULL DEFAULT 0,
      -- [municipality, school] pairs whose subjects carry a snapshot since the last withdrawal
      published_schools jsonb NOT NULL DEFAULT '[]',
      -- enrollments recorded ahead of their effective date, by date (enrollment.ts)
      pending jsonb NOT NULL DEFAULT '[]')`,
    sql`CREATE TABLE ${s}.marks (mark_id text PRIMARY KEY, student_id text NOT NULL,
      subject_id text NOT NULL, term int NOT NULL, mark text NOT NULL, weight int NOT NULL,
      seq bigint NOT NULL)`,
    sql`CREATE INDEX ON ${s}.marks (student_id)`,
    sql`CREATE TABLE ${s}.term_marks (student_id text NOT NULL, subject_id text NOT NULL,
      term int NOT NULL, mark text NOT NULL, PRIMARY KEY (student_id, subject_id, term))`,
    sql`CREATE TABLE ${s}.absences (lesson_id text NOT NULL, student_id text NOT NULL,
      missed boolean NOT NULL, excused boolean NOT NULL, late boolean NOT NULL,
      PRIMARY KEY (student_id, lesson_id))`,
    sql`CREATE INDEX ON ${s}.absences (lesson_id)`,
    // Exemptions (осв.) as granted, civil dates YYYY-MM-DD; grades never revokes one.
    sql`CREATE TABLE ${s}.exemptions (exemption_id text PRIMARY KEY, student_id text NOT NULL,
      subject_id text NOT NULL, first_day text NOT NULL, last_day text NOT NULL)`,
    sql`CREATE INDEX ON ${s}.exemptions (student_id)`,
    sql`CREATE TABLE ${s}.programme_versions (programme_id text NOT NULL, version int NOT NULL,
      items jsonb NOT NULL, PRIMARY KEY (programme_id, version))`,
    sql`CREATE TABLE ${s}.programmes (programme_id text PRIMARY KEY, school_id text NOT NULL,
      municipality_id text NOT NULL, academic_year int NOT NULL, subject_id text NOT NULL,
      grade_level int NOT NULL, version int NOT NULL)`,
    sql`CREATE TABLE ${s}.delivery (school_id text NOT NULL, academic_year int NOT NULL,
      subject_id text NOT NULL, grade_level int NOT NULL, item_id text NOT NULL,
      lessons int NOT NULL, PRIMARY KEY (school_id, academic_year, subject_id, grade_level, item_id))`,
  ];
  for (const q of ddl) await q.execute(db);
}
