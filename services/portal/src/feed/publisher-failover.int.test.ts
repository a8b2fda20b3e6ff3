import type { JetStreamClient } from "@nats-io/jetstream";
import { RUNNER_LOCK_CLASS } from "@otmetka/projections";
import { useTestEnvironment, waitFor } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consent, recordMark, seedSchool } from "../test-support/fixture.js";
import { type Harness, startHarness } from "../test-support/harness.js";
import { settle } from "../test-support/settle.js";
import { enqueueMany } from "./outbox.js";
import { FeedPublisher, type FeedPublisherOptions, OUTBOX_ID_HEADER } from "./publisher.js";

const env = useTestEnvironment({ label: "portal_failover" });
let h: Harness;
/**
 * The publisher that publishes now, holding the lock (the harness's at first): every test
 * starts from it and leaves the instance it ends with here, running.
 */
let active: FeedPublisher;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  h = await startHarness({ databaseUrl: env.databaseUrl, prefix: env.natsPrefix, subscribers: [] });
  active = h.publisher;
  // The harness starts its publisher without waiting for the lock: a second instance started
  // before it holds it would take the lock itself and never stand by (seen in CI).
  await waitFor(
    "the harness's publisher to hold the lock",
    () => h.publisher.counters.activations === 1,
  );
}, 60_000);

afterAll(async () => {
  await active?.stop();
  await h?.stop();
  await Promise.all(pools.map((p) => p.end()));
});

/** Another instance's publisher: its own pool, the same database and stream. */
function anotherInstance(
  onStandby?: () => void,
  more: Partial<FeedPublisherOptions> = {},
): FeedPublisher {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 3 });
  pools.push(pool);
  return new FeedPublisher({
    pool,
    js: h.js,
    jsm: h.jsm,
    names: h.names,
    pollMs: 10,
    ...(onStandby ? { onStandby } : {}),
    ...more,
  });
}

/** Ends the backend holding the publisher's lock, from another connection; waits until it is gone. */
async function terminateLockHolder(): Promise<void> {
  const { rows } = await h.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
        AND classid = $1::int::oid AND objid = hashtext($2)::oid AND objsubid = 2`,
    [RUNNER_LOCK_CLASS, `portal-publisher:${h.names.stream}`],
  );
  expect(rows).toHaveLength(1);
  const ended = await h.pool.query("SELECT pg_terminate_backend($1, 5000) AS ok", [rows[0]!.pid]);
  expect(ended.rows[0].ok).toBe(true);
}

/** Outbox ids of PORTAL's messages from sequence `from` on, in stream order. */
async function outboxIdsFrom(from: number): Promise<string[]> {
  const last = (await h.jsm.streams.info(h.names.stream)).state.last_seq;
  const ids: string[] = [];
  for (let seq = from; seq <= last; seq++) {
    const m = await h.jsm.streams.getMessage(h.names.stream, { seq }).catch(() => null);
    if (m) ids.push(m.header?.get(OUTBOX_ID_HEADER) ?? "");
  }
  return ids;
}

const storedMessages = async () => (await h.jsm.streams.info(h.names.stream)).state.messages;
const outboxRows = async () =>
  (await h.pool.query<Record<string, unknown>>("SELECT * FROM portal.outbox ORDER BY id")).rows;

describe("the feed's publisher across instances", () => {
  it("publishes from one instance at a time: a second waits, then takes over", async () => {
    const first = active;
    const publishedBefore = first.counters.published;
    let standingBy = false;
    const second = anotherInstance(() => {
      standingBy = true;
    }).start();
    await waitFor("the second instance to stand by", () => standingBy);
    await seedSchool(h, [{ id: "a", portalId: "EPGU-A" }]);
    await consent(h, "a", true);
    await settle(h);
    expect(first.counters.published).toBeGreaterThan(publishedBefore);
    expect(second.counters).toMatchObject({ activations: 0, published: 0, snapshots: 0 });

    await first.stop();
    active = second;
    await waitFor("the second instance to take over", () => second.counters.activations === 1);
    await recordMark(h, "a", "MARK_VALUE_FIVE");
    await settle(h);
    expect(second.counters.published).toBeGreaterThan(0);
  });

  it("does not publish again, after the duplicate window, what PORTAL got before a crash", async () => {
    await active.stop();
    await seedSchool(h, [{ id: "b", portalId: "EPGU-B" }]);
    await consent(h, "b", true);
    // Debounced and published by hand, keeping the rows that get published.
    const crashed = anotherInstance();
    await waitFor("the snapshot in the outbox", async () => {
      await crashed.debounceOnce();
      return (await outboxRows()).length > 0;
    });
    const rows = await outboxRows();
    expect(await crashed.publishOnce()).toBe(rows.length);
    const stored = await storedMessages();
    // The crash: the process ended after the publishes, before deleting their rows.
    await h.pool.query(
      "INSERT INTO portal.outbox SELECT * FROM json_populate_recordset(null::portal.outbox, $1)",
      [JSON.stringify(rows)],
    );
    // Restarted past the duplicate window (2 minutes; 100 ms, the least allowed, here).
    await h.jsm.streams.update(h.names.stream, { duplicate_window: 100_000_000 });
    await new Promise((r) => setTimeout(r, 300));

    const restarted = anotherInstance().start();
    active = restarted;
    await waitFor("the outbox to empty", async () => (await outboxRows()).length === 0);
    expect(restarted.counters.resumedRows).toBe(rows.length);
    expect(await storedMessages()).toBe(stored);
    // Later rows go on as before.
    await recordMark(h, "b", "MARK_VALUE_FOUR");
    await settle(h);
    expect(await storedMessages()).toBeGreaterThan(stored);
  });

  it("stops publishing at once when its lock's connection ends mid-step: the standby publishes the rest, each row once", async () => {
    await active.stop();
    await waitFor("an empty outbox", async () => (await outboxRows()).length === 0);
    // Duplicates kept apart by more than 100 ms are stored twice: none is hidden by the window.
    await h.jsm.streams.update(h.names.stream, { duplicate_window: 100_000_000 });
    const firstSeq = (await h.jsm.streams.info(h.names.stream)).state.last_seq + 1;
    const ROWS = 1000; // one step
    const CUT_AT = 100;

    // The old instance's publishes go to NATS as they are; only the ack of the 100th waits
    // until the lock's backend is gone, so its connection ends in the middle of the step.
    let calls = 0;
    let callsAfterLoss = 0;
    let terminated = false;
    let lossHeard = false;
    const js = new Proxy(h.js, {
      get(target, name) {
        if (name !== "publish") {
          const v = Reflect.get(target, name);
          return typeof v === "function" ? v.bind(target) : v;
        }
        return (...args: Parameters<JetStreamClient["publish"]>) => {
          calls++;
          if (terminated) callsAfterLoss++;
          const ack = target.publish(...args);
          if (calls !== CUT_AT) return ack;
          const cut = terminateLockHolder().then(() => {
            terminated = true;
          });
          return Promise.all([ack, cut]).then(([a]) => a);
        };
      },
    });
    const old: FeedPublisher = anotherInstance(undefined, {
      js,
      // Stopped as soon as it hears of the loss, so that the standby takes over (the lock being
      // free, this instance would most likely take it again itself; correct too, but not this test).
      onLockLost: () => {
        lossHeard = true;
        void old.stop();
      },
    }).start();
    active = old;
    await waitFor("the old instance to publish", () => old.counters.activations === 1);
    let standingBy = false;
    const standby = anotherInstance(() => {
      standingBy = true;
    }).start();
    await waitFor("the standby to stand by", () => standingBy);

    await enqueueMany(
      (text, params) => h.pool.query(text, params),
      Array.from({ length: ROWS }, (_, i) => ({
        type: "portal.v1.SchoolReference" as const,
        key: `school-${i}`,
        schoolId: `school-${i}`,
        municipalityId: "municipality-failover",
        time: new Date(),
        data: {
          schoolId: `school-${i}`,
          municipalityId: "municipality-failover",
          name: `School ${i}`,
          shortName: `S${i}`,
          closedOn: "",
        },
      })),
    );
    const rowIds = (await outboxRows()).map((r) => String(r.id));
    expect(rowIds).toHaveLength(ROWS);

    await waitFor("the lock's backend to end", () => terminated);
    await waitFor("the old instance's step to end", () => old.counters.published > 0);
    // Nothing after the loss, and the step cut short: at most the acks then awaited were out.
    expect(callsAfterLoss).toBe(0);
    expect(calls).toBeGreaterThanOrEqual(CUT_AT);
    expect(calls).toBeLessThan(ROWS);
    expect(old.counters.published).toBe(calls);
    expect(lossHeard).toBe(true);

    await waitFor("the standby to take over", () => standby.counters.activations === 1, 30_000);
    active = standby;
    await waitFor("the outbox to empty", async () => (await outboxRows()).length === 0, 30_000);
    // The standby's resume found the old instance's rows in PORTAL and published the others.
    expect(standby.counters.resumedRows).toBe(calls);
    expect(standby.counters.published).toBe(ROWS - calls);
    expect(await outboxIdsFrom(firstSeq)).toEqual(rowIds);
  }, 60_000);
});
