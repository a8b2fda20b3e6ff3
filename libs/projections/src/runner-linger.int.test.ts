import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { type CommittedBatch, ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_linger" });

/** Events counted in the read model, of one stream or of all. */
async function counted(schema: string, stream?: string): Promise<number> {
  const { rows } = stream
    ? await bed.pool.query(`SELECT events AS n FROM ${schema}.counts WHERE stream_id = $1`, [
        stream,
      ])
    : await bed.pool.query(`SELECT sum(events) AS n FROM ${schema}.counts`);
  return Number(rows[0]?.n ?? 0);
}

it("a batch waits for lingerEvents while its first event has waited less than lingerMs", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const batches: CommittedBatch[] = [];
  const runner = await new ProjectionRunner({
    projection: countingProjection("linger"),
    pool,
    nc,
    names,
    lingerMs: 120_000, // longer than the test: only the count can start the batch
    lingerEvents: 10,
    afterCommit: (b) => {
      batches.push(b);
    },
  }).start();
  try {
    const events = Array.from({ length: 10 }, (_, i) =>
      testEvent(`j-${i}`, 1, "grades.v1.MarkRecorded"),
    );
    await publishEvents(nc, names, "grades", events.slice(0, 9));
    await sleep(500); // time enough for a batch to start early, were it allowed to
    expect(batches).toEqual([]);
    await publishEvents(nc, names, "grades", events.slice(9));
    await eventually("the ten events", async () => (await counted("proj_linger")) === 10);
    expect(batches.map((b) => b.messages)).toEqual([10]);
  } finally {
    await runner.stop();
  }
});

it("a lone event is applied once it has waited lingerMs, and stop() does not wait for the linger", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const first = await new ProjectionRunner({
    projection: countingProjection("lone"),
    pool,
    nc,
    names,
    lingerMs: 50,
  }).start();
  try {
    await publishEvents(nc, names, "grades", [testEvent("lone", 1, "grades.v1.MarkRecorded")]);
    await eventually("the lone event", async () => (await counted("proj_lone", "lone")) === 1);
  } finally {
    await first.stop();
  }
  // A runner lingering on an event it has not applied stops at once; the event comes again.
  const second = await new ProjectionRunner({
    projection: countingProjection("lone"),
    pool,
    nc,
    names,
    lingerMs: 120_000,
  }).start();
  await publishEvents(nc, names, "grades", [testEvent("lone", 2, "grades.v1.MarkRecorded")]);
  await sleep(300);
  await second.stop();
  expect(await counted("proj_lone", "lone")).toBe(1);
  const third = await new ProjectionRunner({
    projection: countingProjection("lone"),
    pool,
    nc,
    names,
    lingerMs: 0,
  }).start();
  try {
    await eventually(
      "the redelivered event",
      async () => (await counted("proj_lone", "lone")) === 2,
    );
  } finally {
    await third.stop();
  }
});
