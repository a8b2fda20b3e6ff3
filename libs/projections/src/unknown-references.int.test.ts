import type { RecordedEvent } from "@otmetka/eventstore";
import { afterAll, expect, it } from "vitest";
import { ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { marksProjection } from "./test-support/marks-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_refs" });
let runner: ProjectionRunner | undefined;

afterAll(() => runner?.stop());

const ENROLLMENTS = 40;
const MARKS = 160;

/** Deterministic shuffle (the test must fail the same way twice). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

it("proof 2: marks published before their enrollments are applied once these arrive; result equals the in-order one", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  await ensureContextStream(nc, names, "curriculum");

  const enrollments = Array.from({ length: ENROLLMENTS }, (_, i) =>
    testEvent(`enrollment-${i}`, 1, "curriculum.v1.EnrollmentCreated", {
      enrollmentId: `e${i}`,
      studentId: `student-${i % 13}`,
    }),
  );
  // Each mark stream: recorded, then one or two corrections (which must wait behind it).
  const marks: RecordedEvent[][] = Array.from({ length: MARKS }, (_, m) => {
    const stream = `mark-${m}`;
    const data = { markId: `m${m}`, enrollmentId: `e${(m * 7) % ENROLLMENTS}`, value: (m % 5) + 1 };
    const evs = [testEvent(stream, 1, "grades.v1.MarkRecorded", data)];
    evs.push(
      testEvent(stream, 2, "grades.v1.MarkCorrected", { markId: `m${m}`, value: 10 + (m % 3) }),
    );
    if (m % 2 === 0)
      evs.push(testEvent(stream, 3, "grades.v1.MarkCorrected", { markId: `m${m}`, value: 20 + m }));
    return evs;
  });

  // The expected read model, built in order by plain code (enrollments first).
  const student = new Map(
    enrollments.map((e) => [
      (e.data as { enrollmentId: string }).enrollmentId,
      (e.data as { studentId: string }).studentId,
    ]),
  );
  const expected = marks
    .map((evs) => {
      const first = evs[0]?.data as { markId: string; enrollmentId: string; value: number };
      const values = evs.map((e) => (e.data as { value: number }).value);
      return {
        mark_id: first.markId,
        student_id: student.get(first.enrollmentId),
        value: values.at(-1),
        history: values.join(","),
      };
    })
    .sort((a, b) => a.mark_id.localeCompare(b.mark_id));

  runner = await new ProjectionRunner({
    projection: marksProjection(),
    pool,
    nc,
    names,
    maxBatch: 40,
  }).start();

  // 1. Every mark's first two events, before any enrollment exists.
  await publishEvents(
    nc,
    names,
    "grades",
    marks.flatMap((evs) => evs.slice(0, 2)),
  );
  const pending = async () =>
    Number((await pool.query("SELECT count(*) AS n FROM proj_marks._pending")).rows[0].n);
  await eventually("all marks to wait", async () => (await pending()) === MARKS * 2);
  expect(Number((await pool.query("SELECT count(*) AS n FROM proj_marks.marks")).rows[0].n)).toBe(
    0,
  );

  // 2. Enrollments in shuffled order, interleaved with the remaining corrections.
  const order = shuffled(enrollments, 7);
  const rest = marks.flatMap((evs) => evs.slice(2));
  for (let i = 0; i < order.length; i += 8) {
    await publishEvents(nc, names, "curriculum", order.slice(i, i + 8));
    await publishEvents(nc, names, "grades", rest.slice(i * 2, i * 2 + 16));
  }
  await publishEvents(nc, names, "grades", rest.slice(order.length * 2));

  const total = enrollments.length + marks.flat().length;
  await eventually(
    "every event applied and nothing pending",
    async () => {
      const cps = (await pool.query("SELECT sum(seq) AS n FROM proj_marks._checkpoint")).rows[0].n;
      return Number(cps) === total && (await pending()) === 0;
    },
    30_000,
  );

  const rows = (
    await pool.query(
      'SELECT mark_id, student_id, value, history FROM proj_marks.marks ORDER BY mark_id COLLATE "C"',
    )
  ).rows;
  expect(rows).toEqual(expected.sort((a, b) => (a.mark_id < b.mark_id ? -1 : 1)));
  expect(runner.counters.deferred).toBeGreaterThanOrEqual(MARKS * 2);
  expect(runner.counters.released).toBe(runner.counters.deferred);
}, 60_000);
