import { setTimeout as sleep } from "node:timers/promises";
import { messagingNames } from "@otmetka/messaging";
import { expect, it } from "vitest";
import { ProjectionRunner } from "./projection-runner.js";
import { RUNNER_LOCK_CLASS } from "./runner-lock.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_lock", poolMax: 6 });

it("a second runner of the same projection waits as a standby and takes over when the first stops", async () => {
  const { nc, pool, names } = bed;
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

it("a runner whose lock connection is cut takes the lock again and applies everything", async () => {
  const { env, nc, pool } = bed;
  const names = messagingNames(`${env.natsPrefix}_cut`);
  await ensureContextStream(nc, names, "grades");
  const errors: string[] = [];
  const runner = await new ProjectionRunner({
    projection: countingProjection("cut"),
    pool,
    nc,
    names,
    maxBatch: 50,
    onError: (err) => errors.push(String(err)),
  }).start();
  const events = Array.from({ length: 200 }, (_, i) =>
    testEvent(`j-${i % 10}`, Math.floor(i / 10) + 1, "grades.v1.MarkRecorded"),
  );
  await publishEvents(nc, names, "grades", events.slice(0, 100));
  await eventually("the first half applied", () => runner.counters.applied === 100);
  // What a database restart does to the lock's session, on this connection alone.
  const cut = await pool.query(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1 AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [RUNNER_LOCK_CLASS],
  );
  expect(cut.rows).toEqual([{ ok: true }]);
  await eventually("the lock lost", () => errors.some((e) => e.includes("lost the runner lock")));
  await publishEvents(nc, names, "grades", events.slice(100));
  await eventually(
    "the rest applied after the lock is taken again",
    () => runner.counters.applied === 200,
    20_000,
  );
  expect(runner.counters.lockRegains).toBe(1);
  await runner.stop();
  const r = await pool.query("SELECT sum(events) AS n, sum(gaps) AS g FROM proj_cut.counts");
  expect(Number(r.rows[0].n)).toBe(200);
  expect(Number(r.rows[0].g)).toBe(0);
}, 60_000);

it("a runner that fails to start (its source stream missing) lets go of the lock", async () => {
  const { env, nc, pool } = bed;
  const names = messagingNames(`${env.natsPrefix}_nostream`);
  const opts = { projection: countingProjection("unstarted"), pool, nc, names, maxBatch: 50 };
  await expect(new ProjectionRunner(opts).start()).rejects.toThrow(/stream not found/);
  await ensureContextStream(nc, names, "grades");
  let waiting = false;
  const runner = new ProjectionRunner({ ...opts, onWaiting: () => (waiting = true) });
  const started = runner.start().then(() => true);
  try {
    // Before, the failed start kept the lock's connection: this runner waited as a standby.
    expect(await Promise.race([started, sleep(5000).then(() => false)]), "started").toBe(true);
    expect(waiting).toBe(false);
    await publishEvents(nc, names, "grades", [testEvent("j-1", 1, "grades.v1.MarkRecorded")]);
    await eventually("the event applied", () => runner.counters.applied === 1);
  } finally {
    await runner.stop();
  }
}, 30_000);
