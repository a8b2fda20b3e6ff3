import { sql } from "kysely";
import { expect, it } from "vitest";
import { defineProjection, type Projection } from "./projection.js";
import { rebuildProjection } from "./rebuild.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

/*
 * A pipelined rebuild computes a batch while the previous one's writes (ctx.writeBehind) and
 * commit still run: what the batches wrote must all be there, and a write that fails must
 * fail the rebuild (no swap) even though nothing waited for it when it was sent.
 */
const bed = useTestbed({ label: "projections_write_behind" });

/** One row per event, written behind in flush; `n` must stay under 100 (a CHECK). */
function itemsProjection(name: string, context: string): Projection<[string, number][]> {
  return defineProjection<[string, number][]>({
    name,
    version: 1,
    sources: [{ context }],
    async setup(db) {
      await db.schema
        .createTable("items")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("n", "integer", (c) => c.notNull().check(sql`n < 100`))
        .execute();
    },
    createScratch: () => [],
    apply(e, ctx) {
      const d = e.data as { id: string; n: number };
      ctx.scratch.push([d.id, d.n]);
    },
    async flush(ctx) {
      for (const [id, n] of ctx.scratch)
        ctx.writeBehind(ctx.query(`INSERT INTO ${ctx.schema}.items VALUES ($1, $2)`, [id, n]));
    },
  });
}

async function publish(context: string, ns: number[]) {
  const { nc, names } = bed;
  await ensureContextStream(nc, names, context);
  await publishEvents(
    nc,
    names,
    context,
    ns.map((n, i) => testEvent(`item-${i}`, 1, `${context}.v1.ItemAdded`, { id: `i${i}`, n })),
  );
  return names;
}

it("every batch's writes behind are committed before the swap", async () => {
  const { nc, pool } = bed;
  const names = await publish("itemsok", [...Array(23).keys()]);
  const r = await rebuildProjection({
    projection: itemsProjection("behind_ok", "itemsok"),
    pool,
    nc,
    names,
    batchSize: 5,
  });
  expect(r.batches).toBe(5);
  const rows = await pool.query(
    "SELECT count(*)::int AS n, sum(n)::int AS s FROM proj_behind_ok.items",
  );
  expect(rows.rows[0]).toEqual({ n: 23, s: (22 * 23) / 2 });
  expect(r.checkpoints).toEqual({ itemsok: 23 });
});

it("a write behind that fails in a batch fails the rebuild, and nothing is swapped in", async () => {
  const { nc, pool } = bed;
  // The 13th event breaks the CHECK: in the third batch of five, sent while a later one runs.
  const ns = [...Array(23).keys()].map((i) => (i === 12 ? 100 : i));
  const names = await publish("itemsbad", ns);
  await expect(
    rebuildProjection({
      projection: itemsProjection("behind_bad", "itemsbad"),
      pool,
      nc,
      names,
      batchSize: 5,
    }),
  ).rejects.toThrow(/check constraint/);
  const live = await pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'proj_behind_bad'");
  expect(live.rowCount).toBe(0);
});

it("a rebuild's batches commit without waiting for the WAL flush; the session keeps its setting", async () => {
  const { nc, pool } = bed;
  const names = await publish("itemssync", [1, 2, 3, 4, 5, 6, 7]);
  const settings = defineProjection<undefined>({
    name: "behind_sync",
    version: 1,
    sources: [{ context: "itemssync" }],
    async setup(db) {
      await db.schema
        .createTable("seen")
        .addColumn("n", "serial", (c) => c.primaryKey())
        .addColumn("sync", "text", (c) => c.notNull())
        .execute();
    },
    createScratch: () => undefined,
    apply() {},
    async flush(ctx) {
      await ctx.query(
        `INSERT INTO ${ctx.schema}.seen (sync) SELECT current_setting('synchronous_commit')`,
      );
    },
  });
  const r = await rebuildProjection({ projection: settings, pool, nc, names, batchSize: 3 });
  expect(r.batches).toBe(3);
  const seen = await pool.query("SELECT sync FROM proj_behind_sync.seen ORDER BY n");
  expect(seen.rows.map((x) => x.sync)).toEqual(["off", "off", "off"]);
  const session = await pool.query("SELECT current_setting('synchronous_commit') AS sync");
  expect(session.rows[0]).toEqual({ sync: "on" });
});
