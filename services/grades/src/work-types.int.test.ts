import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { raceBehindLocks, useTestEnvironment } from "@otmetka/testing";
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
    // Both calls read and decide before either commits (the stream's lock held until both wait).
    const set = () =>
      h.client.setWorkTypeWeights(
        { commandId: randomUUID(), schoolId: f.schoolId, weights },
        admin,
      );
    const outcomes = await raceBehindLocks(
      h.store.pool,
      { classId: STREAM_LOCK_CLASS, keys: [stream] },
      [set, set],
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === "rejected");
    const refused = await grpcError(Promise.reject(lost?.reason));
    expect([refused.code, refused.details]).toEqual([
      status.FAILED_PRECONDITION,
      `weights: [weights_unchanged] school ${f.schoolId}'s work-type table is already ORAL 2, TEST 4`,
    ]);
    expect(await h.store.streamVersion(stream)).toBe(1);
    const { rows } = await h.store.pool.query<{ weights: unknown; version: string }>(
      "SELECT weights, version FROM grades.work_type_weights WHERE school_id = $1",
      [f.schoolId],
    );
    expect(rows).toEqual([{ weights: { ORAL: 2, TEST: 4 }, version: "1" }]);
  });
});
