import { createLifecycle, type Logger } from "@otmetka/service-kit";
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
