import type { RecordedEvent } from "@otmetka/eventstore";
import { afterAll, expect, it } from "vitest";
import type { ChangeNotice } from "./change-notices.js";
import { type CommittedBatch, ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { countingProjection } from "./test-support/counting-projection.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_notices" });
let runner: ProjectionRunner | undefined;

afterAll(() => runner?.stop());

const STREAMS = 30;
const VERSIONS = 20;

it("proof 4: one change notice per batch per changed item, published after the commit", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const batches: CommittedBatch[] = [];
  const received: {
    notice: ChangeNotice;
    subject: string;
    committedSeq: number;
    batchKnown: boolean;
  }[] = [];
  const checks: Promise<void>[] = [];
  const sub = nc.subscribe(`${names.eventRoot("reporting")}.changed.>`, {
    callback: (_err, msg) => {
      const notice = msg.json<ChangeNotice>();
      // afterCommit runs right after COMMIT: its record must already be there.
      const batchKnown = batches.some(
        (b) => b.checkpoints.get("grades") === notice.checkpoints.grades,
      );
      // What a subscriber reading the read model on receipt would see.
      checks.push(
        pool.query("SELECT seq FROM proj_notices._checkpoint WHERE source = 'grades'").then((r) => {
          received.push({
            notice,
            subject: msg.subject,
            committedSeq: Number(r.rows[0].seq),
            batchKnown,
          });
        }),
      );
    },
  });
  runner = await new ProjectionRunner({
    projection: countingProjection("notices", { noticeContext: "reporting", flushDelayMs: 20 }),
    pool,
    nc,
    names,
    maxBatch: 50,
    afterCommit: (b) => {
      batches.push(b);
    },
  }).start();

  const events: RecordedEvent[] = [];
  for (let v = 1; v <= VERSIONS; v++) {
    for (let s = 0; s < STREAMS; s++)
      events.push(testEvent(`journal-${s}`, v, "grades.v1.MarkRecorded"));
  }
  // Bursts, so that batches hold several events of one stream (coalesced into one notice).
  for (let i = 0; i < events.length; i += 150) {
    await publishEvents(nc, names, "grades", events.slice(i, i + 150));
    await new Promise((r) => setTimeout(r, 30));
  }
  await eventually("all events applied", () => runner?.counters.applied === events.length);
  await eventually("all notices received", async () => {
    await nc.flush();
    const expected = batches.reduce((n, b) => n + b.changed.length, 0);
    return received.length >= expected && checks.length === received.length;
  });
  await Promise.all(checks);
  sub.unsubscribe();

  // Expected: for each committed batch, one notice per distinct stream it touched.
  const expected = batches.flatMap((b) =>
    b.changed.map((c) => `${b.checkpoints.get("grades")}|${c.kind}|${c.id}`),
  );
  const got = received.map((r) => `${r.notice.checkpoints.grades}|${r.notice.kind}|${r.notice.id}`);
  expect(got.sort()).toEqual(expected.sort());
  // Coalesced: fewer notices than events, yet every stream announced in every batch touching it.
  expect(got.length).toBeLessThan(events.length);
  const multi = batches.filter((b) => b.applied > b.changed.length);
  expect(multi.length).toBeGreaterThan(0);
  for (const b of batches) {
    expect(new Set(b.changed.map((c) => c.id)).size).toBe(b.changed.length);
  }
  // After the commit: on receipt, the checkpoint the notice names is already committed.
  for (const r of received) {
    expect(r.committedSeq).toBeGreaterThanOrEqual(r.notice.checkpoints.grades ?? Infinity);
    expect(r.batchKnown).toBe(true);
    expect(r.subject).toBe(`${names.eventRoot("reporting")}.changed.stream.${r.notice.id}`);
  }
}, 60_000);
