import { EventStore } from "../event-store.js";
import { migrateEventStoreDatabase } from "../migrations/index.js";
import type { EventStorePoolOptions } from "../pool.js";
import type { Upcasters } from "../upcasters.js";

/** Migrates the database at `url` with migrateEventStore. */
export const migrate = migrateEventStoreDatabase;

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
