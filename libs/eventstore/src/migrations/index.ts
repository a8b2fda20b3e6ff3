import { Kysely, type Migration, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import * as tables from "./2026-11-28-001-eventstore-tables.js";
import * as appendFunctions from "./2026-11-28-002-eventstore-append-functions.js";
import * as versionsFromLog from "./2026-11-28-003-eventstore-versions-from-log.js";
import * as appendCommands from "./2026-11-28-004-eventstore-append-commands.js";
import * as appendCommandsJson from "./2026-11-28-005-eventstore-append-commands-json.js";
import * as appendCommandsNoPrecheck from "./2026-11-28-006-eventstore-append-commands-no-precheck.js";
import * as appendCommandsUndoReplays from "./2026-11-28-007-eventstore-append-commands-undo-replays.js";
import * as sharedGuardLocks from "./2026-11-28-008-eventstore-shared-guard-locks.js";
import { EVENTSTORE_SCHEMA } from "./schema-names.js";

/**
 * The event store's migrations, by name (ISO date first, so they sort before a service's
 * later ones). A service may spread them into its own migration provider:
 *   getMigrations: async () => ({ ...eventStoreMigrations, ...serviceMigrations })
 * or run them apart with migrateEventStore.
 */
export const eventStoreMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  "2026-11-28_001_eventstore_tables": tables,
  "2026-11-28_002_eventstore_append_functions": appendFunctions,
  "2026-11-28_003_eventstore_versions_from_log": versionsFromLog,
  "2026-11-28_004_eventstore_append_commands": appendCommands,
  "2026-11-28_005_eventstore_append_commands_json": appendCommandsJson,
  "2026-11-28_006_eventstore_append_commands_no_precheck": appendCommandsNoPrecheck,
  "2026-11-28_007_eventstore_append_commands_undo_replays": appendCommandsUndoReplays,
  "2026-11-28_008_eventstore_shared_guard_locks": sharedGuardLocks,
});

/** Migrator table used by migrateEventStore, inside the event store's own schema. */
export const EVENTSTORE_MIGRATION_TABLE = "kysely_migration";

/**
 * Brings the event store schema up to date in the database of `db`, with its own migration
 * bookkeeping (eventstore.kysely_migration) so a service's Migrator is not disturbed.
 * Throws the migration's error when one fails.
 */
export async function migrateEventStore(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...eventStoreMigrations }) },
    migrationTableSchema: EVENTSTORE_SCHEMA,
    migrationTableName: EVENTSTORE_MIGRATION_TABLE,
    migrationLockTableName: `${EVENTSTORE_MIGRATION_TABLE}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`event store migration ${failed} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/**
 * A service's migrations with the event store's, in the service's own Migrator table
 * (`<service>_migration`). Unordered migrations are allowed: the event store's later
 * migrations sort before a service's already applied ones (`..._003` < `..._101`) and touch
 * other tables, so they must still apply to existing databases. Throws naming the failed one.
 */
export async function migrateServiceSchema(
  db: Kysely<unknown>,
  service: string,
  migrations: Readonly<Record<string, Migration>>,
  /** Bookkeeping table; default `<service>_migration` (older services kept kysely's default). */
  options: { migrationTable?: string } = {},
): Promise<string[]> {
  const table = options.migrationTable ?? `${service}_migration`;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...eventStoreMigrations, ...migrations }) },
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(
      `${service} migration ${failed} failed: ${(error as Error).message ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** migrateEventStore on the database at `connectionString`, for scripts, tests and benchmarks. */
export async function migrateEventStoreDatabase(connectionString: string): Promise<string[]> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString, max: 1 }) }),
  });
  try {
    return await migrateEventStore(db);
  } finally {
    await db.destroy();
  }
}
