import { useTestEnvironment, waitFor } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consent, recordMark, seedSchool } from "../test-support/fixture.js";
import { type Harness, startHarness } from "../test-support/harness.js";
import { settle } from "../test-support/settle.js";
import { FeedPublisher } from "./publisher.js";

const env = useTestEnvironment({ label: "portal_failover" });
let h: Harness;
/** The publisher that publishes now (the harness's until the first test stops it). */
let active: FeedPublisher;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  h = await startHarness({ databaseUrl: env.databaseUrl, prefix: env.natsPrefix, subscribers: [] });
  active = h.publisher;
}, 60_000);

afterAll(async () => {
  await active?.stop();
  await h?.stop();
  await Promise.all(pools.map((p) => p.end()));
});

/** Another instance's publisher: its own pool, the same database and stream. */
function anotherInstance(onStandby?: () => void): FeedPublisher {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 3 });
  pools.push(pool);
  return new FeedPublisher({
    pool,
    js: h.js,
    jsm: h.jsm,
    names: h.names,
    pollMs: 10,
    ...(onStandby ? { onStandby } : {}),
  });
}

const storedMessages = async () => (await h.jsm.streams.info(h.names.stream)).state.messages;
const outboxRows = async () =>
  (await h.pool.query<Record<string, unknown>>("SELECT * FROM portal.outbox ORDER BY id")).rows;

describe("the feed's publisher across instances", () => {
  it("publishes from one instance at a time: a second waits, then takes over", async () => {
    let standingBy = false;
    const second = anotherInstance(() => {
      standingBy = true;
    }).start();
    await waitFor("the second instance to stand by", () => standingBy);
    await seedSchool(h, [{ id: "a", portalId: "EPGU-A" }]);
    await consent(h, "a", true);
    await settle(h);
    expect(h.publisher.counters.published).toBeGreaterThan(0);
    expect(second.counters).toMatchObject({ activations: 0, published: 0, snapshots: 0 });

    await h.publisher.stop();
    active = second;
    await waitFor("the second instance to take over", () => second.counters.activations === 1);
    await recordMark(h, "a", "5");
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
    await recordMark(h, "b", "4");
    await settle(h);
    expect(await storedMessages()).toBeGreaterThan(stored);
  });
});
