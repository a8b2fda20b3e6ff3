import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { EventStore } from "../event-store.js";
import { migrateEventStore } from "../migrations/index.js";
import type { EventStorePoolOptions } from "../pool.js";
import type { Upcasters } from "../upcasters.js";

/** Migrates the database at `url` with migrateEventStore. */
export async function migrate(url: string): Promise<void> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  try {
    await migrateEventStore(db);
  } finally {
    await db.destroy();
  }
}

/** A store over a freshly migrated database. */
export async function openStore(
  url: string,
  options: Partial<EventStorePoolOptions> & { upcasters?: Upcasters } = {},
): Promise<EventStore> {
  await migrate(url);
  return EventStore.connect({ connectionString: url, ...options });
}

export function event(type: string, data: unknown = {}) {
  return { type, data };
}
