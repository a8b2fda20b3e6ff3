import { randomUUID } from "node:crypto";
import type pg from "pg";
import { expect, it } from "vitest";
import { applyBatch } from "./apply-batch.js";
import { ensureLiveSchema } from "./live-schema.js";
import { defineProjection } from "./projection.js";
import type { BatchEntry } from "./projection-event.js";
import { ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_live_tx", poolMax: 2 });
const projection = countingProjection("named");

let sequence = 0;
/** `n` events, one per stream s-0 … s-(n-1), at the given version. */
function batch(n: number, version: number): BatchEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const seq = ++sequence;
    return {
      source: "grades",
      sequence: seq,
      event: {
        eventId: randomUUID(),
        type: "grades.v1.MarkRecorded",
        source: "grades",
        streamId: `s-${i}`,
        version,
        schemaVersion: 1,
        position: seq,
        checkpoint: String(seq),
        time: new Date().toISOString(),
        subject: "t.grades.v1.MarkRecorded",
        context: "grades",
        sequence: seq,
        wasPending: false,
        data: {},
      },
    };
  });
}

const live = (client: pg.PoolClient, schema: string, entries: BatchEntry[]) =>
  applyBatch(client, projection, schema, entries, { mode: "live", begin: true, commit: true });

it("live batches send a repeated statement prepared once per connection, and it follows a schema swap", async () => {
  const { pool } = bed;
  const schema = await ensureLiveSchema(pool, projection);
  const client = await pool.connect();
  try {
    for (let v = 1; v <= 3; v++) await live(client, schema, batch(5, v));
    const prepared = await client.query<{ statement: string }>(
      "SELECT statement FROM pg_prepared_statements",
    );
    const texts = prepared.rows.map((r) => r.statement);
    expect(texts.some((t) => t.includes(`INSERT INTO ${schema}.counts`))).toBe(true);
    const counts = await client.query(`SELECT sum(events)::int AS n, sum(gaps)::int AS gaps
      FROM ${schema}.counts`);
    expect(counts.rows[0]).toEqual({ n: 15, gaps: 0 });

    // A rebuild's swap renames schemas: the prepared statements must write the new tables.
    await client.query(`ALTER SCHEMA ${schema} RENAME TO ${schema}_retired`);
    await ensureLiveSchema(pool, projection);
    await live(client, schema, batch(5, 1));
    const fresh = await client.query(`SELECT sum(events)::int AS n FROM ${schema}.counts`);
    const retired = await client.query(
      `SELECT sum(events)::int AS n FROM ${schema}_retired.counts`,
    );
    expect(fresh.rows[0]).toEqual({ n: 5 });
    expect(retired.rows[0]).toEqual({ n: 15 });
  } finally {
    client.release();
  }
});

/** Records, per batch, the settings its transaction runs with. */
const settingsProjection = defineProjection<undefined>({
  name: "settings",
  version: 1,
  sources: [{ context: "grades" }],
  async setup(db) {
    await db.schema
      .createTable("seen")
      .addColumn("n", "serial", (c) => c.primaryKey())
      .addColumn("sync", "text", (c) => c.notNull())
      .addColumn("plans", "text", (c) => c.notNull())
      .execute();
  },
  async apply(_e, ctx) {
    await ctx.query(
      `INSERT INTO ${ctx.schema}.seen (sync, plans)
       SELECT current_setting('synchronous_commit'), current_setting('plan_cache_mode')`,
    );
  },
});

it("a live batch commits without waiting for the WAL flush, unless synchronousCommit is set", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const seen = async () =>
    (await pool.query("SELECT sync, plans FROM proj_settings.seen ORDER BY n")).rows;
  for (const synchronousCommit of [false, true]) {
    const runner = await new ProjectionRunner({
      projection: settingsProjection,
      pool,
      nc,
      names,
      synchronousCommit,
    }).start();
    try {
      const version = synchronousCommit ? 2 : 1;
      await publishEvents(nc, names, "grades", [testEvent("j-1", version, "grades.v1.Noted")]);
      await eventually("the batch", async () => (await seen()).length === version);
    } finally {
      await runner.stop();
    }
  }
  expect(await seen()).toEqual([
    { sync: "off", plans: "force_custom_plan" },
    { sync: "on", plans: "force_custom_plan" },
  ]);
  // Outside the batch's transaction the session keeps its own settings.
  const session = await pool.query("SELECT current_setting('synchronous_commit') AS sync");
  expect(session.rows[0]).toEqual({ sync: "on" });
});
