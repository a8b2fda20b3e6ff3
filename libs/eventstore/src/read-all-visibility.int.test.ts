import { setTimeout as sleep } from "node:timers/promises";
import { useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Checkpoint } from "./checkpoint.js";
import type { EventStore } from "./event-store.js";
import { event, openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_visibility" });
let store: EventStore;

beforeAll(async () => {
  store = await openStore(env.databaseUrl);
});
afterAll(async () => {
  await store?.close();
});

/**
 * The events after `after` once some appear (up to 100 reads). A transaction of another
 * database that ended between a read's snapshot and its look at the backends still counts
 * for that one read, so a single read may come back empty by chance.
 */
async function readSoon(
  after?: Checkpoint,
): Promise<{ streams: string[]; checkpoint?: Checkpoint }> {
  for (let i = 0; i < 100; i++) {
    const page = await store.readAll(after, 100);
    if (page.events.length > 0) {
      return { streams: page.events.map((e) => e.streamId), checkpoint: page.checkpoint };
    }
    await sleep(20);
  }
  return { streams: [] };
}

/** A connection inside a transaction that holds an xid until `end()`. */
async function openWriteTransaction(url: string): Promise<{ end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("BEGIN");
  await client.query("SELECT pg_current_xact_id()"); // assigns the transaction id
  return {
    end: async () => {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}

describe("readAll visibility", () => {
  it("is not held back by a write transaction open in another database", async () => {
    const foreign = await openWriteTransaction(env.adminDatabaseUrl);
    try {
      await store.append("vis-foreign", "no_stream", [event("Noted")]);
      // The foreign transaction is older than the append; before, xmin was cluster-wide.
      expect((await readSoon()).streams).toContain("vis-foreign");
    } finally {
      await foreign.end();
    }
  });

  it("is held back by an older write transaction of its own database until that ends", async () => {
    const before = await readSoon();
    expect(before.streams).toEqual(["vis-foreign"]);
    const own = await openWriteTransaction(env.databaseUrl);
    let ended = false;
    try {
      await store.append("vis-own", "no_stream", [event("Noted")]);
      // The later append is committed, but a transaction older than it may still write.
      expect((await store.readAll(before.checkpoint, 100)).events).toEqual([]);
      await own.end();
      ended = true;
      expect((await readSoon(before.checkpoint)).streams).toEqual(["vis-own"]);
    } finally {
      if (!ended) await own.end();
    }
  });
});
