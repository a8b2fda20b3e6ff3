import { expect, it } from "vitest";
import { ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_prune", poolMax: 6 });

const count = async (sql: string) => Number((await bed.pool.query(sql)).rows[0].n);

it("prunes inbox rows older than the retention and keeps the newer ones and the read model", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const runner = await new ProjectionRunner({
    projection: countingProjection("pruned"),
    pool,
    nc,
    names,
    inboxRetentionMs: 3_600_000,
    inboxPruneIntervalMs: 0,
  }).start();
  try {
    const events = Array.from({ length: 40 }, (_, i) =>
      testEvent(`j-${i % 4}`, Math.floor(i / 4) + 1, "grades.v1.MarkRecorded"),
    );
    await publishEvents(nc, names, "grades", events.slice(0, 30));
    await eventually("30 applied", () => runner.counters.applied === 30);
    expect(await count("SELECT count(*) AS n FROM proj_pruned._inbox")).toBe(30);
    // Age 25 of them past the retention, as if applied two hours ago.
    await pool.query(
      `UPDATE proj_pruned._inbox SET applied_at = now() - interval '2 hours'
        WHERE event_id IN (SELECT event_id FROM proj_pruned._inbox ORDER BY event_id LIMIT 25)`,
    );
    await publishEvents(nc, names, "grades", events.slice(30));
    await eventually(
      "the rest applied and the old rows pruned",
      () => runner.counters.applied === 40 && runner.counters.inboxPruned === 25,
    );
    expect(await count("SELECT count(*) AS n FROM proj_pruned._inbox")).toBe(15);
    expect(await count("SELECT sum(events) AS n FROM proj_pruned.counts")).toBe(40);
    expect(await count("SELECT sum(gaps) AS n FROM proj_pruned.counts")).toBe(0);
  } finally {
    await runner.stop();
  }
}, 30_000);

it("adds the inbox age to a read model created before pruning existed", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const opts = { projection: countingProjection("older"), pool, nc, names };
  const first = await new ProjectionRunner(opts).start();
  await first.stop();
  await pool.query(
    "DROP INDEX proj_older._inbox_applied_at; ALTER TABLE proj_older._inbox DROP COLUMN applied_at",
  );
  const again = await new ProjectionRunner(opts).start();
  await again.stop();
  const cols = await pool.query(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'proj_older' AND table_name = '_inbox' ORDER BY 1",
  );
  expect(cols.rows.map((r) => r.column_name)).toEqual(["applied_at", "event_id"]);
}, 30_000);
