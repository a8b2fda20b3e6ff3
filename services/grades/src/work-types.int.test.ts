import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { type EventStore, STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { raceBehindLocks, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWorkTypeWeights } from "./commands/work-types.js";
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

  it("a retry racing its first run (its command id looked for before that run committed) answers that run, not weights_unchanged", async () => {
    const g = schoolFixture();
    await publishFeed(h.nc, h.names, g.events);
    await fixtureReplicated(h, g);
    const call = {
      caller: {
        kind: "user" as const,
        accountId: randomUUID(),
        personId: randomUUID(),
        grants: [
          { role: "SCHOOL_ADMIN" as const, scope: { kind: "school" as const, id: g.schoolId } },
        ],
        token: "",
      },
      metadata: {},
    };
    const req = {
      commandId: randomUUID(),
      schoolId: g.schoolId,
      weights: [{ workType: "ORAL", weight: 3 }],
    };
    // The retry finds no record of its id, then waits while the first run commits.
    let looked!: () => void;
    let release!: () => void;
    const hasLooked = new Promise<void>((r) => {
      looked = r;
    });
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const store: EventStore = Object.create(h.store);
    store.findCommand = async (id) => {
      const found = await h.store.findCommand(id);
      looked();
      await gate;
      return found;
    };
    const retry = setWorkTypeWeights({ ...h.deps, store }, call, req);
    retry.catch(() => {});
    await hasLooked;
    expect(await setWorkTypeWeights(h.deps, call, req)).toEqual({ replayed: false });
    release();
    expect(await retry).toEqual({ replayed: true });
    expect(await h.store.streamVersion(`worktypes-${g.schoolId}`)).toBe(1);
  });
});
