import { useTestEnvironment } from "@otmetka/testing";
import { Kysely, type Migration, Migrator, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { EventStore } from "./event-store.js";
import {
  eventStoreMigrations,
  migrateEventStore,
  migrateServiceSchema,
} from "./migrations/index.js";

const env = useTestEnvironment({ label: "es_migrations" });

function kysely(url: string): Kysely<unknown> {
  return new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
  });
}

describe("migrations", () => {
  it("migrateEventStore creates the eventstore schema once, with its own bookkeeping", async () => {
    const db = kysely(env.databaseUrl);
    try {
      expect(await migrateEventStore(db)).toEqual(Object.keys(eventStoreMigrations));
      expect(await migrateEventStore(db)).toEqual([]);
      const { rows } = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'eventstore' ORDER BY table_name`.execute(db);
      expect(rows.map((r) => r.table_name)).toEqual([
        "commands",
        "events",
        "kysely_migration",
        "kysely_migration_lock",
        "snapshots",
      ]);
      const publicTables = await sql`
        SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'`.execute(db);
      expect(publicTables.rows).toHaveLength(0);
    } finally {
      await db.destroy();
    }
  });

  it("composes with a service's own migrations in one Migrator, and migrates down", async () => {
    const other = await env.createDatabase("es_compose");
    const db = kysely(other.url);
    const service: Record<string, Migration> = {
      "2026-12-01_001_grades_read_model": {
        up: async (d) => {
          await sql`CREATE TABLE journal_view (id text PRIMARY KEY)`.execute(d);
        },
        down: async (d) => {
          await sql`DROP TABLE journal_view`.execute(d);
        },
      },
    };
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...eventStoreMigrations, ...service }) },
    });
    try {
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      expect(up.results?.map((r) => r.migrationName)).toEqual([
        ...Object.keys(eventStoreMigrations),
        "2026-12-01_001_grades_read_model",
      ]);
      const store = EventStore.connect({ connectionString: other.url, max: 1 });
      await store.append("s", "no_stream", [{ type: "A", data: {} }]);
      await store.close();
      const down = await migrator.migrateTo(Object.keys(eventStoreMigrations)[0]!);
      expect(down.error).toBeUndefined();
      const fn = await sql`SELECT 1 FROM pg_proc WHERE proname = 'append_events'`.execute(db);
      expect(fn.rows).toHaveLength(0);
    } finally {
      await db.destroy();
    }
  });

  it("migrateServiceSchema applies an event store migration added after the service's own ran", async () => {
    const other = await env.createDatabase("es_unordered");
    const db = kysely(other.url);
    const service: Record<string, Migration> = {
      "2026-11-28_101_demo_table": {
        up: async (d) => {
          await sql`CREATE TABLE demo_rows (id text PRIMARY KEY)`.execute(d);
        },
      },
    };
    try {
      expect(await migrateServiceSchema(db, "demo", service)).toEqual([
        ...Object.keys(eventStoreMigrations),
        "2026-11-28_101_demo_table",
      ]);
      // A later release of the event store brings a migration that sorts before 101.
      const later: Record<string, Migration> = {
        ...service,
        "2026-11-28_003_eventstore_later": {
          up: async (d) => {
            await sql`CREATE TABLE eventstore.later_marker (x int)`.execute(d);
          },
        },
      };
      expect(await migrateServiceSchema(db, "demo", later)).toEqual([
        "2026-11-28_003_eventstore_later",
      ]);
      const marker = await sql`SELECT to_regclass('eventstore.later_marker') AS t`.execute(db);
      expect(marker.rows).toEqual([{ t: "eventstore.later_marker" }]);
      expect(await migrateServiceSchema(db, "demo", later)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it("migrateServiceSchema names the migration that failed", async () => {
    const other = await env.createDatabase("es_failing");
    const db = kysely(other.url);
    try {
      const failing: Record<string, Migration> = {
        "2026-11-28_101_broken": {
          up: async (d) => void (await sql`SELECT no_such_column FROM nowhere`.execute(d)),
        },
      };
      await expect(migrateServiceSchema(db, "demo", failing)).rejects.toThrow(
        /^demo migration 2026-11-28_101_broken failed: relation "nowhere" does not exist/,
      );
    } finally {
      await db.destroy();
    }
  });
});
