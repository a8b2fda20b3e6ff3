import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";

const env = useTestEnvironment({ label: "projections_lock" });
let nc: NatsConnection;
let pool: pg.Pool;

beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 6 });
});
afterAll(async () => {
  await nc?.close();
  await pool?.end();
});

it("a second runner of the same projection waits as a standby and takes over when the first stops", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureContextStream(nc, names, "grades");
  const opts = { projection: countingProjection("locked"), pool, nc, names, maxBatch: 50 };
  const first = await new ProjectionRunner(opts).start();
  let waiting = false;
  const second = new ProjectionRunner({ ...opts, onWaiting: () => (waiting = true) });
  const secondStarted = second.start();
  await eventually("the second runner to wait", () => waiting);

  const events = Array.from({ length: 300 }, (_, i) =>
    testEvent(`j-${i % 10}`, Math.floor(i / 10) + 1, "grades.v1.MarkRecorded"),
  );
  await publishEvents(nc, names, "grades", events.slice(0, 150));
  await eventually(
    "the first runner to apply the first half",
    () => first.counters.applied === 150,
  );
  expect(second.counters.messages).toBe(0);
  await first.stop();
  await secondStarted;
  await publishEvents(nc, names, "grades", events.slice(150));
  await eventually("the second runner to apply the rest", () => second.counters.applied === 150);
  await second.stop();
  const r = await pool.query("SELECT sum(events) AS n, sum(gaps) AS g FROM proj_locked.counts");
  expect(Number(r.rows[0].n)).toBe(300);
  expect(Number(r.rows[0].g)).toBe(0);
}, 30_000);
