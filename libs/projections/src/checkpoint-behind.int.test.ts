import { expect, it } from "vitest";
import { CheckpointBehind } from "./errors.js";
import { ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_cp_behind" });

async function tally(schema: string) {
  const { rows } = await bed.pool.query(
    `SELECT events, last_version, gaps FROM ${schema}.counts WHERE stream_id = 's'`,
  );
  return rows[0] as { events: number; last_version: number; gaps: number } | undefined;
}

/**
 * Batches commit without waiting for the WAL flush, so a server crash can take back the last
 * ones — read model, inbox rows and checkpoint together — while the runner goes on from its
 * consumers' position. The crash is played by taking back exactly what those commits wrote.
 */
it("after commits lost in a crash, the next batch re-applies from the stored checkpoint instead of leaving a hole", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const schema = "proj_cpbehind";
  const errors: unknown[] = [];
  const runner = await new ProjectionRunner({
    projection: countingProjection("cpbehind"),
    pool,
    nc,
    names,
    onError: (err) => errors.push(err),
  }).start();
  try {
    const events = Array.from({ length: 7 }, (_, i) =>
      testEvent("s", i + 1, "grades.v1.MarkRecorded"),
    );
    await publishEvents(nc, names, "grades", events.slice(0, 5));
    await eventually("five events", async () => (await tally(schema))?.events === 5);

    // The crash: the commits of events 3-5 never reached the disk.
    const lost = events.slice(2, 5).map((e) => e.eventId);
    await pool.query(`BEGIN;
      UPDATE ${schema}.counts SET events = 2, last_version = 2 WHERE stream_id = 's';
      UPDATE ${schema}._checkpoint SET seq = seq - 3 WHERE source = 'grades';
      DELETE FROM ${schema}._inbox WHERE event_id IN (${lost.map((id) => `'${id}'`).join(", ")});
      COMMIT`);

    await publishEvents(nc, names, "grades", events.slice(5));
    await eventually("all seven events", async () => (await tally(schema))?.events === 7);
    expect(await tally(schema)).toEqual({ events: 7, last_version: 7, gaps: 0 });
    expect(errors.some((e) => e instanceof CheckpointBehind)).toBe(true);
  } finally {
    await runner.stop();
  }
});
