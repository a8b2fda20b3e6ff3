import { createLifecycle, type Logger } from "@otmetka/service-kit";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import type { ProjectionRunner } from "./projection-runner.js";
import { startProjection, startRunnerUpgrading } from "./start-projection.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_upgrade" });
const lifecycle = createLifecycle();
afterAll(() => lifecycle.shutdown("test done"));

/** A logger keeping what was logged (pino's signature, the two levels used). */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (_fields: object, message: string) => {
    lines.push({ level, message });
  };
  const logger = { warn: log("warn"), info: log("info"), error: log("error") } as unknown as Logger;
  return { logger, lines };
}

const counted = async (schema: string) =>
  (await bed.pool.query(`SELECT sum(events)::int AS n FROM ${schema}.counts`)).rows[0]?.n;

it("starts on a read model of an older version after rebuilding it from sequence 1", async () => {
  const names = bed.names;
  await ensureContextStream(bed.nc, names, "grades");
  await publishEvents(
    bed.nc,
    names,
    "grades",
    [1, 2, 3].map((v) => testEvent("journal-a", v, "grades.v1.MarkRecorded")),
  );
  const v1 = countingProjection("upgrading");
  const first = recordingLogger();
  const old: ProjectionRunner = await startProjection(createLifecycle(), "counts", {
    projection: v1,
    pool: bed.pool,
    nc: bed.nc,
    names,
    logger: first.logger,
  });
  await eventually("three counted", async () => (await counted("proj_upgrading")) === 3);
  await old.stop();
  expect(first.lines).toEqual([]);

  // The next release: the same projection at version 2 (its code changed).
  const v2 = { ...v1, version: 2 };
  await publishEvents(bed.nc, names, "grades", [
    testEvent("journal-a", 4, "grades.v1.MarkRecorded"),
  ]);
  const second = recordingLogger();
  await startProjection(lifecycle, "counts", {
    projection: v2,
    pool: bed.pool,
    nc: bed.nc,
    names,
    logger: second.logger,
  });
  const version = await bed.pool.query("SELECT version FROM proj_upgrading._meta");
  expect(version.rows[0]?.version).toBe(2);
  await eventually("four counted", async () => (await counted("proj_upgrading")) === 4);
  expect(second.lines.map((l) => l.level)).toEqual(["warn", "info"]);
  expect(second.lines[0]?.message).toBe(
    "counts of an older version: rebuilding it from sequence 1",
  );
});

it("upgrades without hooks too", async () => {
  const names = bed.names;
  await ensureContextStream(bed.nc, names, "grades");
  const v1 = countingProjection("upgrading_quietly");
  const options = { projection: v1, pool: bed.pool, nc: bed.nc, names };
  await (await startRunnerUpgrading(options)).stop();
  const runner = await startRunnerUpgrading({ ...options, projection: { ...v1, version: 2 } });
  try {
    const version = await bed.pool.query("SELECT version FROM proj_upgrading_quietly._meta");
    expect(version.rows[0]?.version).toBe(2);
  } finally {
    await runner.stop();
  }
});

it("rebuilds once when two instances upgrade at the same time; the other starts on it", async () => {
  const names = bed.names;
  // A context of its own: the counts are this test's events only.
  await ensureContextStream(bed.nc, names, "attendance");
  await publishEvents(
    bed.nc,
    names,
    "attendance",
    Array.from({ length: 40 }, (_, i) =>
      testEvent(`journal-twin-${i % 4}`, 1 + Math.floor(i / 4), "attendance.v1.AttendanceRecorded"),
    ),
  );
  const v1 = countingProjection("upgrading_twice", { flushDelayMs: 300, context: "attendance" });
  const options = { projection: v1, pool: bed.pool, nc: bed.nc, names };
  const old = await startRunnerUpgrading(options);
  await eventually("forty counted", async () => (await counted("proj_upgrading_twice")) === 40);
  await old.stop();
  const v2 = { ...v1, version: 2 };
  const rebuilt: number[] = [];
  const hooks = { onRebuilt: (r: { events: number }) => rebuilt.push(r.events) };
  // Two instances: a pool each. A flush waits 300 ms, so the two rebuilds overlap.
  const pools = [0, 1].map(() => new pg.Pool({ connectionString: bed.env.databaseUrl, max: 4 }));
  try {
    const starts = pools.map((pool) =>
      startRunnerUpgrading({ ...options, pool, projection: v2 }, hooks),
    );
    const outcome: string[] = [];
    for (const [i, start] of starts.entries()) {
      start.then(
        () => outcome.push(`${i} started`),
        (err: unknown) => outcome.push(`${i} failed: ${String(err)}`),
      );
    }
    // The second runner waits as a standby while the first runs (the runner lock).
    await eventually("one started", async () => outcome.length > 0);
    const first = Number(outcome[0]?.[0]);
    const stopIfStarted = async (start?: Promise<ProjectionRunner>) =>
      (await start?.catch(() => undefined))?.stop();
    await stopIfStarted(starts[first]);
    await stopIfStarted(starts[1 - first]);
    expect(outcome.map((o) => o.slice(2)).sort()).toEqual(["started", "started"]);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
  const version = await bed.pool.query("SELECT version FROM proj_upgrading_twice._meta");
  expect(version.rows[0]?.version).toBe(2);
  expect(await counted("proj_upgrading_twice")).toBe(40);
  expect(rebuilt).toHaveLength(1);
}, 30_000);
