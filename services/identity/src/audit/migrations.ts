import { Kysely, type Migration, PostgresDialect, sql } from "kysely";
import pg from "pg";

/*
 * The access audit's tables, both partitioned by month of occurred_at (partitions are made by
 * partitions.ts, ahead of time and on demand):
 *  - records: one row per request; (record_id, occurred_at) is unique, so a redelivered record
 *    (same id, same time) is stored once — unique indexes of a partitioned table must include
 *    the partition key, and a record's time never changes.
 *  - record_pupils: one narrow row per (pupil, record). Its primary key (pupil_id,
 *    occurred_at, record_id) is exactly the query "pupil P between from and to, newest first",
 *    read backwards. A pupil-id array with a GIN index was the alternative: smaller, but GIN
 *    cannot return rows in time order (every page would fetch and sort the pupil's whole
 *    month) and its pending-list flushes make bulk writes uneven.
 */
export const auditMigrations: Record<string, Migration> = {
  "2026-11-28_250_identity_access_audit": {
    async up(db) {
      await sql`CREATE SCHEMA IF NOT EXISTS access_audit`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS access_audit.records (
        record_id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor_account_id uuid NOT NULL,
        actor_person_id uuid,
        actor_role text NOT NULL,
        operation text NOT NULL,
        correlation_id text NOT NULL,
        PRIMARY KEY (record_id, occurred_at)
      ) PARTITION BY RANGE (occurred_at)`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS access_audit.record_pupils (
        pupil_id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        record_id uuid NOT NULL,
        PRIMARY KEY (pupil_id, occurred_at, record_id)
      ) PARTITION BY RANGE (occurred_at)`.execute(db);
    },
  },
};

/**
 * The audit tables alone, in a database without identity's other tables: for the bench, which
 * measures the storage path on its own.
 */
export async function migrateAuditTables(databaseUrl: string): Promise<void> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1 }) }),
  });
  try {
    for (const m of Object.values(auditMigrations)) await m.up(db);
  } finally {
    await db.destroy();
  }
}
