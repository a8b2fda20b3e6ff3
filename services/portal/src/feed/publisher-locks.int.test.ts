import { liveSchema } from "@otmetka/projections";
import { useTestEnvironment, waitFor } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consent, seedSchool } from "../test-support/fixture.js";
import { type Harness, startHarness } from "../test-support/harness.js";
import { settle } from "../test-support/settle.js";
import { markDirty } from "./outbox.js";
import { FEED_PROJECTION } from "./projection.js";

const env = useTestEnvironment({ label: "portal_locks" });
let h: Harness;
const schema = liveSchema({ name: FEED_PROJECTION });

beforeAll(async () => {
  h = await startHarness({ databaseUrl: env.databaseUrl, prefix: env.natsPrefix, subscribers: [] });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

const dirtyKeys = async () =>
  (await h.pool.query<{ key: string }>("SELECT key FROM portal.dirty ORDER BY key")).rows.map(
    (r) => r.key,
  );

describe("debouncer and projection batches", () => {
  // Under seed load the debouncer waited for pupil rows a projection batch held while that batch
  // waited for dirty entries the debouncer held: "deadlock detected" every few seconds.
  it("skips a pupil whose row another transaction holds instead of waiting for it", async () => {
    await seedSchool(h, [
      { id: "busy", portalId: "EPGU-B" },
      { id: "free", portalId: "EPGU-F" },
    ]);
    await consent(h, "busy", true);
    await consent(h, "free", true);
    await settle(h);
    // Snapshots taken: published, or left out as equal to the one each subject shows (these
    // bare dirty entries change no figure).
    const taken = () => h.publisher.counters.snapshots + h.publisher.counters.unchanged;
    const takenBefore = taken();

    const holder = await h.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT 1 FROM "${schema}".pupils WHERE person_id = 'busy' FOR UPDATE`);
      await markDirty((t, p) => h.pool.query(t, p), "pupil", ["free", "busy"], 0);

      const timeout = new Promise<"waited">((r) => setTimeout(() => r("waited"), 5_000).unref());
      const outcome = await Promise.race([h.publisher.debounceOnce().then(() => "done"), timeout]);
      expect(outcome).toBe("done");
      // The free pupil is done (by this call or the running loop); the busy one stays dirty.
      await waitFor("the free pupil's snapshot", async () => !(await dirtyKeys()).includes("free"));
      expect(await dirtyKeys()).toEqual(["busy"]);
      expect(h.publisher.counters.busy).toBeGreaterThan(0);
    } finally {
      await holder.query("COMMIT");
      holder.release();
    }
    // Once the holder commits, the busy pupil's snapshot is taken as well.
    await settle(h);
    expect(taken()).toBeGreaterThanOrEqual(takenBefore + 2);
  }, 60_000);
});
