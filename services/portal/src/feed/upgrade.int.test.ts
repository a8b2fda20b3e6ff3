import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { consent, grantExemption, seedSchool } from "../test-support/fixture.js";
import { type Harness, openTestPortalId, startHarness } from "../test-support/harness.js";
import { settle } from "../test-support/settle.js";
import { startFeed } from "./start-feed.js";

const env = useTestEnvironment({ label: "portal-upgrade" });
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ databaseUrl: env.databaseUrl, prefix: env.natsPrefix, subscribers: [] });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

it("rebuilds a read model of an older version at start: exemptions granted before it are there", async () => {
  await seedSchool(h, [{ id: "p1", portalId: "EPGU-1" }]);
  await consent(h, "p1", true);
  await grantExemption(h, "p1", "pe", "2026-11-01", "2026-12-31");
  await settle(h);
  const published = (await h.jsm.streams.info(h.names.stream)).state.last_seq;
  // What version 1 left behind: no exemptions table, its _meta saying 1.
  await h.runner.stop();
  await h.pool.query(
    "DROP TABLE proj_portal_feed.exemptions; UPDATE proj_portal_feed._meta SET version = 1",
  );
  let rebuilt = 0;
  const feed = await startFeed({
    nc: h.nc,
    pool: h.pool,
    prefix: h.prefix,
    openPortalId: openTestPortalId,
    debounceMs: 20,
    onRebuild: () => rebuilt++,
  });
  try {
    expect(rebuilt).toBe(1);
    const rows = await h.pool.query(
      "SELECT student_id, subject_id, first_day, last_day FROM proj_portal_feed.exemptions",
    );
    expect(rows.rows).toEqual([
      { student_id: "p1", subject_id: "pe", first_day: "2026-11-01", last_day: "2026-12-31" },
    ]);
    // The rebuild published nothing again.
    expect((await h.jsm.streams.info(h.names.stream)).state.last_seq).toBe(published);
  } finally {
    await feed.stop();
  }
});
