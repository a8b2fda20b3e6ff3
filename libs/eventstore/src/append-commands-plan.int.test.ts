import { randomUUID } from "node:crypto";
import { useTestEnvironment, waitFor } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CommandAppend } from "./append-commands.js";
import type { EventStore } from "./event-store.js";
import { event, openStore } from "./test-support/store.js";

const env = useTestEnvironment({ label: "es_commands_plan" });
let store: EventStore;
let admin: pg.Pool;

beforeAll(async () => {
  // One connection: the plan that plpgsql caches for the session is the one measured.
  store = await openStore(env.databaseUrl, { max: 1 });
  admin = new pg.Pool({ connectionString: env.databaseUrl, max: 1 });
});
afterAll(async () => {
  await store?.close();
  await admin?.end();
});

const mark = (): CommandAppend => ({
  command: { commandId: randomUUID(), payload: { n: 1 }, result: null },
  appends: [{ streamId: `plan-${randomUUID()}`, expected: 0, events: [event("MarkRecorded")] }],
});

/** Sequential scans of the commands table and rows inserted into it, as the statistics show them. */
async function commandsTable() {
  const { rows } = await admin.query(
    "SELECT seq_scan, n_tup_ins FROM pg_stat_user_tables WHERE schemaname = 'eventstore' AND relname = 'commands'",
  );
  return { scans: Number(rows[0].seq_scan), inserted: Number(rows[0].n_tup_ins) };
}

it("a batch of commands never reads the whole commands table, however many are recorded", async () => {
  // With 1,000-20,000 recorded commands (not 60,000), the id look-up before the writes (migration
  // 005) was planned as a hash join over the whole table: one sequential scan per batch.
  for (const recorded of [1_000, 20_000]) {
    await admin.query(
      `INSERT INTO eventstore.commands (command_id, payload_hash, result)
       SELECT $1 || g, 'h', 'null' FROM generate_series(1, $2::int) g`,
      [`bulk-${randomUUID()}-`, recorded],
    );
    await admin.query("ANALYZE eventstore.commands");
    const before = await commandsTable();
    for (let i = 0; i < 10; i++) {
      const out = await store.appendCommands([mark(), mark()]);
      expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
    }
    // Statistics reach other sessions once the backend flushes them.
    await store.pool.query("SELECT pg_stat_force_next_flush()");
    let after = before;
    await waitFor(
      "the batches' inserts in the statistics",
      async () => {
        after = await commandsTable();
        return after.inserted >= before.inserted + 20;
      },
      10_000,
    );
    expect({ recorded, scans: after.scans - before.scans }).toEqual({ recorded, scans: 0 });
  }
}, 60_000);
