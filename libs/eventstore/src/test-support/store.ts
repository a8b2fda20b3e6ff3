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

/**
 * readAll from the start once it shows every event committed so far. xmin is server-wide, so
 * an open transaction of another run sharing the server (another clone's suite) holds readAll
 * back for a while; a test that needs "everything before now" waits for it here.
 */
export async function readAllSettled(store: EventStore, timeoutMs = 60_000) {
  const { rows } = await store.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM eventstore.events",
  );
  const committed = Number(rows[0]!.n);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await store.readAll(undefined, committed + 1);
    if (page.events.length >= committed) return page;
    if (Date.now() > deadline) {
      throw new Error(`readAll still shows ${page.events.length} of ${committed} committed events`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
