import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { eventually, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishFeed, type SchoolFixture, schoolFixture } from "./test-support/feed.js";
import {
  fixtureReplicated,
  grpcError,
  type Harness,
  startHarness,
} from "./test-support/harness.js";

const env = useTestEnvironment({ label: "grades_work_types" });
let h: Harness;
let f: SchoolFixture;

beforeAll(async () => {
  h = await startHarness(env);
  f = schoolFixture();
  await publishFeed(h.nc, h.names, f.events);
  await fixtureReplicated(h, f);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("SetWorkTypeWeights under concurrency", () => {
  it("two identical calls racing append one table; the other is refused weights_unchanged", async () => {
    const admin = await h.as([`SCHOOL_ADMIN@school:${f.schoolId}`], randomUUID());
    const stream = `worktypes-${f.schoolId}`;
    const weights = [
      { workType: "ORAL", weight: 2 },
      { workType: "TEST", weight: 4 },
    ];
    // Hold the stream's append lock, so both calls have read and decided before either commits.
    const holder = await h.store.pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1::int, hashtext($2))", [
        STREAM_LOCK_CLASS,
        stream,
      ]);
      const calls = [0, 1].map(() =>
        h.client
          .setWorkTypeWeights({ commandId: randomUUID(), schoolId: f.schoolId, weights }, admin)
          .then(
            () => "set",
            (err: unknown) => err,
          ),
      );
      await eventually(async () => {
        const { rows } = await h.store.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND database =
              (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        if (rows[0]!.n < 2) throw new Error("both calls are not waiting on the stream yet");
      });
      await holder.query("SELECT pg_advisory_unlock($1::int, hashtext($2))", [
        STREAM_LOCK_CLASS,
        stream,
      ]);
      const outcomes = await Promise.all(calls);
      expect(outcomes.filter((o) => o === "set")).toHaveLength(1);
      const refused = await grpcError(Promise.reject(outcomes.find((o) => o !== "set")));
      expect([refused.code, refused.details]).toEqual([
        status.FAILED_PRECONDITION,
        `weights: [weights_unchanged] school ${f.schoolId}'s work-type table is already ORAL 2, TEST 4`,
      ]);
    } finally {
      holder.release();
    }
    expect(await h.store.streamVersion(stream)).toBe(1);
    const { rows } = await h.store.pool.query<{ weights: unknown; version: string }>(
      "SELECT weights, version FROM grades.work_type_weights WHERE school_id = $1",
      [f.schoolId],
    );
    expect(rows).toEqual([{ weights: { ORAL: 2, TEST: 4 }, version: "1" }]);
  });
});
