import { setTimeout as sleep } from "node:timers/promises";
import type { RecordedEvent } from "@otmetka/eventstore";
import type { messagingNames } from "@otmetka/messaging";
import { afterAll, expect, it } from "vitest";
import { ProjectionRunner } from "./projection-runner.js";
import { type RebuildProgress, rebuildProjection } from "./rebuild.js";
import { eventually } from "./test-support/child.js";
import { marksProjection } from "./test-support/marks-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_rebuild", poolMax: 6 });
let runner: ProjectionRunner | undefined;

afterAll(() => runner?.stop());

/** Events of round `r`: new enrollments, marks on them (some before their enrollment), corrections. */
function round(r: number): { curriculum: RecordedEvent[]; grades: RecordedEvent[] } {
  const curriculum: RecordedEvent[] = [];
  const grades: RecordedEvent[] = [];
  for (let i = 0; i < 10; i++) {
    const e = `e${r}-${i}`;
    curriculum.push(
      testEvent(`enrollment-${e}`, 1, "curriculum.v1.EnrollmentCreated", {
        enrollmentId: e,
        studentId: `student-${(r + i) % 17}`,
      }),
    );
    for (let k = 0; k < 3; k++) {
      const m = `m${r}-${i}-${k}`;
      grades.push(
        testEvent(`mark-${m}`, 1, "grades.v1.MarkRecorded", {
          markId: m,
          enrollmentId: e,
          value: k + 1,
        }),
        testEvent(`mark-${m}`, 2, "grades.v1.MarkCorrected", { markId: m, value: 10 + i }),
      );
    }
  }
  return { curriculum, grades };
}

async function publishRound(names: ReturnType<typeof messagingNames>, r: number) {
  const { curriculum, grades } = round(r);
  // Odd rounds publish marks before their enrollments: the pending path is part of the rebuild.
  if (r % 2) {
    await publishEvents(bed.nc, names, "grades", grades);
    await publishEvents(bed.nc, names, "curriculum", curriculum);
  } else {
    await publishEvents(bed.nc, names, "curriculum", curriculum);
    await publishEvents(bed.nc, names, "grades", grades);
  }
}

const dump = async (schema: string) => ({
  marks: (
    await bed.pool.query(
      `SELECT mark_id, student_id, value, history FROM ${schema}.marks ORDER BY mark_id COLLATE "C"`,
    )
  ).rows,
  enrollments: (
    await bed.pool.query(`SELECT * FROM ${schema}.enrollments ORDER BY enrollment_id COLLATE "C"`)
  ).rows,
  pending: Number((await bed.pool.query(`SELECT count(*) AS n FROM ${schema}._pending`)).rows[0].n),
});

it("proof 3: a rebuild while writes go on swaps in a version equal to one built from scratch afterwards", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  await ensureContextStream(nc, names, "curriculum");
  for (let r = 0; r < 40; r++) await publishRound(names, r);

  runner = await new ProjectionRunner({
    projection: marksProjection("marks"),
    pool,
    nc,
    names,
    maxBatch: 100,
  }).start();
  await eventually(
    "the live version to catch up",
    () => runner?.counters.applied === 40 * 70,
    30_000,
  );
  // Writes go on through the whole rebuild and after its swap, at ~140 events/s: a rebuild
  // swaps once it has caught up, and at 350/s a CI machine loaded by other suites left it
  // behind for the test's 3 minutes.
  let writing = true;
  let rounds = 40;
  const writer = (async () => {
    while (writing) {
      await publishRound(names, rounds++);
      await sleep(500);
    }
  })();
  const seen: RebuildProgress[] = [];
  const result = await rebuildProjection({
    projection: marksProjection("marks"),
    pool,
    nc,
    names,
    batchSize: 500,
    onProgress: (p) => seen.push(p),
  });
  const roundsAtSwap = rounds;
  // The swap happened while writes went on: a round starts after it. Waited for, not slept
  // on: a round's publishes can take longer than any fixed wait on a loaded machine.
  await eventually("a round written after the swap", () => rounds > roundsAtSwap);
  writing = false;
  await writer;
  expect(result.replacedVersion).toBe(1);
  expect(seen.at(-1)?.phase).toBe("done");
  expect(seen.filter((p) => p.phase === "building").length).toBeGreaterThan(3);

  const expectedEvents = rounds * 70;
  const applied = async (schema: string) =>
    Number((await pool.query(`SELECT sum(seq) AS n FROM ${schema}._checkpoint`)).rows[0].n);
  await eventually(
    "the live runner to go on in the swapped-in version",
    async () => (await applied("proj_marks")) === expectedEvents,
    30_000,
  );
  expect(runner.stoppedBecause).toBeUndefined();
  expect((await pool.query("SELECT origin FROM proj_marks._meta")).rows[0].origin).toBe("rebuild");
  // The old version is gone (not kept), no build schema is left.
  const schemas = (
    await pool.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj_marks%' ORDER BY 1")
  ).rows.map((r) => r.nspname);
  expect(schemas).toEqual(["proj_marks"]);

  // From scratch, after the writes stopped: the same projection under another name.
  await rebuildProjection({
    projection: marksProjection("marks_scratch"),
    pool,
    nc,
    names,
    batchSize: 5000,
  });
  expect(await applied("proj_marks_scratch")).toBe(expectedEvents);
  const swapped = await dump("proj_marks");
  const scratch = await dump("proj_marks_scratch");
  expect(swapped.marks.length).toBe(rounds * 30);
  expect(swapped.pending).toBe(0);
  expect(swapped).toEqual(scratch);
}, 180_000);
