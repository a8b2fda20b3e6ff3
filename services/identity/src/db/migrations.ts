import { migrateServiceSchema } from "@otmetka/eventstore";
import { type Kysely, type Migration, sql } from "kysely";
import { auditMigrations } from "../audit/migrations.js";

/*
 * Identity's own tables, beside the event store's schema. The read models (municipalities,
 * schools, people, person_name_index, class_groups, enrollments, ...) are written in the same
 * transaction as the events they come from and can be rebuilt from the log
 * (projections/rebuild.ts). person_keys is not a read model: it is the mutable key table that
 * erasure deletes from, and the only place data keys live.
 */

/**
 * The schools holding a person (README "A person's schools"), one definition for the
 * authorization of calls (Targets.person) and for listing a school's accounts: where they are
 * enrolled now, where they work now (staff_schools) and, for a guardian, where their linked
 * children are enrolled now; with none, the school of the last stay (theirs or their
 * children's), else the school that registered them. A school the pupil left is no longer one
 * of theirs, nor of their guardians'. It runs per person of every GetPeople call: the pupil's
 * stays and the children's are two index lookups joined by UNION ALL (an `OR ... IN (subquery)`
 * made PostgreSQL scan the whole enrollments table on each call).
 */
async function createPersonSchools(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION person_schools(p uuid) RETURNS SETOF uuid
    LANGUAGE sql STABLE AS $$
      WITH stays AS (
        SELECT e.school_id, e.valid_from, e.valid_to FROM enrollments e WHERE e.person_id = p
        UNION ALL
        SELECT e.school_id, e.valid_from, e.valid_to
        FROM guardian_links g JOIN enrollments e ON e.person_id = g.student_id
        WHERE g.guardian_id = p
      ), now AS (
        SELECT stays.school_id FROM stays WHERE stays.valid_to IS NULL
        UNION SELECT s.school_id FROM staff_schools s WHERE s.person_id = p
      )
      SELECT now.school_id FROM now
      UNION ALL
      SELECT COALESCE(
        (SELECT stays.school_id FROM stays
         ORDER BY stays.valid_to DESC, stays.valid_from DESC LIMIT 1),
        r.school_id)
      FROM people r WHERE r.person_id = p AND NOT EXISTS (SELECT 1 FROM now)
    $$`.execute(db);
}

/**
 * The schools that held a person before but hold them no longer (README "A person's former
 * schools"): the schools of their own stays, the school that registered them and the staff
 * schools they left (staff_schools_left), less their current schools (person_schools). Over
 * one of these a caller reads the person's name only: the school's journals keep listing a
 * pupil who left and the teacher who taught their lessons. A guardian's children's schools
 * are not theirs here (a journal lists pupils).
 *
 * staff_schools_left is a read model of StaffUnassignedFromSchool (UnassignStaffFromSchool
 * deletes the staff_schools row): a row per school the staff member ever left, kept when they
 * come back (person_schools then counts the school as current). It is filled here from the
 * log for events older than the table, as the projection and a rebuild do.
 */
export async function createPersonFormerSchools(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS staff_schools_left (
    person_id uuid NOT NULL,
    school_id uuid NOT NULL,
    PRIMARY KEY (person_id, school_id)
  )`.execute(db);
  await sql`INSERT INTO staff_schools_left (person_id, school_id)
    SELECT (data->>'personId')::uuid, (data->>'schoolId')::uuid FROM eventstore.events
    WHERE type = 'identity.v1.StaffUnassignedFromSchool'
    ON CONFLICT DO NOTHING`.execute(db);
  await sql`CREATE OR REPLACE FUNCTION person_former_schools(p uuid)
    RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
      SELECT e.school_id FROM enrollments e WHERE e.person_id = p
      UNION SELECT r.school_id FROM people r WHERE r.person_id = p
      UNION SELECT l.school_id FROM staff_schools_left l WHERE l.person_id = p
      EXCEPT SELECT person_schools(p)
    $$`.execute(db);
}

const identityMigrations: Record<string, Migration> = {
  "2026-11-28_101_identity_organisations": {
    async up(db) {
      await sql`CREATE TABLE IF NOT EXISTS municipalities (
        municipality_id uuid PRIMARY KEY,
        name text NOT NULL
      )`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS schools (
        school_id uuid PRIMARY KEY,
        municipality_id uuid NOT NULL,
        name text NOT NULL,
        short_name text NOT NULL,
        address text NOT NULL,
        time_zone text NOT NULL,
        inn text NOT NULL,
        ogrn text NOT NULL,
        closed_on date
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS schools_by_municipality ON schools (municipality_id)`.execute(
        db,
      );
    },
  },
  "2026-11-28_102_identity_people": {
    async up(db) {
      await sql`CREATE TABLE IF NOT EXISTS person_keys (
        person_id uuid PRIMARY KEY,
        master_key_id text NOT NULL,
        wrapped_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS people (
        person_id uuid PRIMARY KEY,
        kind smallint NOT NULL,
        school_id uuid NOT NULL,
        municipality_id uuid NOT NULL,
        personal_data bytea,
        legal_hold boolean NOT NULL DEFAULT false,
        erased boolean NOT NULL DEFAULT false
      )`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS person_name_index (
        school_id uuid NOT NULL,
        token bytea NOT NULL,
        person_id uuid NOT NULL,
        PRIMARY KEY (school_id, token, person_id)
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS person_name_index_by_person ON person_name_index (person_id)`.execute(
        db,
      );
    },
  },
  "2026-11-28_103_identity_class_groups": {
    async up(db) {
      await sql`CREATE TABLE IF NOT EXISTS class_groups (
        class_group_id uuid PRIMARY KEY,
        school_id uuid NOT NULL,
        municipality_id uuid NOT NULL,
        academic_year integer NOT NULL,
        grade_level smallint NOT NULL,
        letter text NOT NULL,
        homeroom_teacher_id uuid,
        closed boolean NOT NULL DEFAULT false
      )`.execute(db);
      // One open 5 "А" per school and year; a race between two openings ends here.
      await sql`CREATE UNIQUE INDEX IF NOT EXISTS class_groups_open_name
        ON class_groups (school_id, academic_year, grade_level, letter) WHERE NOT closed`.execute(
        db,
      );
      await sql`CREATE TABLE IF NOT EXISTS enrollments (
        person_id uuid NOT NULL,
        valid_from date NOT NULL,
        valid_to date,
        class_group_id uuid NOT NULL,
        school_id uuid NOT NULL,
        PRIMARY KEY (person_id, valid_from)
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS enrollments_by_class_group
        ON enrollments (class_group_id, valid_from)`.execute(db);
    },
  },
  "2026-11-28_104_identity_subgroups_guardians": {
    async up(db) {
      await sql`CREATE TABLE IF NOT EXISTS subgroups (
        subgroup_id uuid PRIMARY KEY,
        class_group_id uuid NOT NULL,
        school_id uuid NOT NULL,
        subject_id text NOT NULL,
        name text NOT NULL
      )`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS subgroup_members (
        subgroup_id uuid NOT NULL,
        person_id uuid NOT NULL,
        valid_from date NOT NULL,
        valid_to date,
        PRIMARY KEY (subgroup_id, person_id, valid_from)
      )`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS guardian_links (
        guardian_id uuid NOT NULL,
        student_id uuid NOT NULL,
        PRIMARY KEY (guardian_id, student_id)
      )`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS staff_schools (
        person_id uuid NOT NULL,
        school_id uuid NOT NULL,
        PRIMARY KEY (person_id, school_id)
      )`.execute(db);
      await sql`ALTER TABLE people ADD COLUMN IF NOT EXISTS portal_consent boolean NOT NULL DEFAULT false`.execute(
        db,
      );
      // Ciphertext under the person's data key, like personal_data.
      await sql`ALTER TABLE people ADD COLUMN IF NOT EXISTS portal_id bytea`.execute(db);
    },
  },
  "2026-11-28_201_identity_accounts": {
    async up(db) {
      // Mutable tables, never events: credentials, lockout counters, refresh tokens, keys.
      await sql`CREATE TABLE IF NOT EXISTS accounts (
        account_id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('user', 'service')),
        username text UNIQUE,
        service_name text,
        person_id uuid,
        secret_hash text NOT NULL,
        failed_attempts integer NOT NULL DEFAULT 0,
        lockouts integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        created_at timestamptz NOT NULL
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS accounts_by_person ON accounts (person_id)`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS refresh_families (
        family_id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS refresh_families_by_account ON refresh_families (account_id)`.execute(
        db,
      );
      // SHA-256 of the token only: a database reader cannot use a stored row.
      await sql`CREATE TABLE IF NOT EXISTS refresh_tokens (
        token_hash bytea PRIMARY KEY,
        family_id uuid NOT NULL REFERENCES refresh_families ON DELETE CASCADE,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (family_id)`.execute(
        db,
      );
      // Private keys sealed under the master key (AES-256-GCM, kid and master key id as AAD).
      await sql`CREATE TABLE IF NOT EXISTS signing_keys (
        kid text PRIMARY KEY,
        public_jwk jsonb NOT NULL,
        master_key_id text NOT NULL,
        sealed_private_key bytea NOT NULL,
        activated_at timestamptz NOT NULL,
        retired_at timestamptz
      )`.execute(db);
      // Read model of RoleGranted / RoleRevoked (rebuilt from the log like the others).
      await sql`CREATE TABLE IF NOT EXISTS account_grants (
        account_id uuid NOT NULL,
        role text NOT NULL,
        scope_kind text NOT NULL,
        scope_id text NOT NULL,
        PRIMARY KEY (account_id, role, scope_kind, scope_id)
      )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS account_grants_by_role ON account_grants (role)`.execute(
        db,
      );
    },
  },
  "2026-11-30_202_identity_account_status": {
    async up(db) {
      // Read model of AccountDisabled / AccountEnabled (rebuilt from the log like the others).
      await sql`CREATE TABLE IF NOT EXISTS disabled_accounts (
        account_id uuid PRIMARY KEY,
        reason text NOT NULL
      )`.execute(db);
      // Kept by login itself (a mutable fact like the lockout counters, not an event).
      await sql`ALTER TABLE accounts ADD COLUMN IF NOT EXISTS last_login_at timestamptz`.execute(
        db,
      );
    },
  },
  "2026-11-30_203_identity_person_schools": {
    // (Its first form also counted a staff member's registering school from people; 204
    // replaced it, and this migration now makes the same function, so every database ends equal.)
    up: createPersonSchools,
  },
  "2026-11-30_204_identity_staff_leave": {
    async up(db) {
      // staff_schools now holds every school a staff member works at, the registering one
      // included (UnassignStaffFromSchool may end it), as PersonRegistered of staff now writes;
      // person_schools then reads staff from it alone.
      await sql`INSERT INTO staff_schools (person_id, school_id)
        SELECT person_id, school_id FROM people WHERE kind = 2
        ON CONFLICT DO NOTHING`.execute(db);
      await createPersonSchools(db);
    },
  },
  "2026-11-30_205_identity_guardian_schools": {
    // person_schools counts a guardian's children's stays (createPersonSchools).
    up: createPersonSchools,
  },
  "2026-11-30_206_identity_person_former_schools": {
    // (Its first form had no staff schools left; 207 added them, and this migration now makes
    // the same table and function, so every database ends equal.)
    up: createPersonFormerSchools,
  },
  "2026-11-30_207_identity_staff_schools_left": {
    // A school a teacher left is one of their former schools (createPersonFormerSchools).
    up: createPersonFormerSchools,
  },
  "2026-11-30_208_identity_person_schools_indexed": {
    // person_schools reads the stays through the enrollments index (createPersonSchools).
    up: createPersonSchools,
  },
  "2026-11-30_209_identity_school_people_indexes": {
    async up(db) {
      // ListAccounts of a school gathers the school's people from these (accounts.ts) on
      // every page: by school, and a pupil's guardians by the pupil.
      await sql`CREATE INDEX IF NOT EXISTS people_by_school ON people (school_id)`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS enrollments_by_school ON enrollments (school_id)`.execute(
        db,
      );
      await sql`CREATE INDEX IF NOT EXISTS staff_schools_by_school ON staff_schools (school_id)`.execute(
        db,
      );
      await sql`CREATE INDEX IF NOT EXISTS guardian_links_by_student ON guardian_links (student_id)`.execute(
        db,
      );
    },
  },
};

export async function migrateIdentityDatabase(db: Kysely<unknown>): Promise<void> {
  await migrateServiceSchema(db, "identity", { ...identityMigrations, ...auditMigrations });
}
