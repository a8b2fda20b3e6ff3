import { rebuildProjection } from "@otmetka/projections";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { syntheticHistory } from "./bench/synthetic-history.js";
import { CLOCK_ZONE } from "./projections/day-close.js";
import { civilDate } from "./projections/event-data.js";
import { createReportingProjection } from "./projections/projection.js";
import type { FeedEvent } from "./test-support/feed.js";
import { type Harness, startHarness } from "./test-support/harness.js";
import { tableRows } from "./test-support/table-rows.js";

/*
 * A rebuild equals live projection on a history of many recorded days (the benchmark's kind:
 * lessons, attendance and marks of three sources, corrections days later), snapshots
 * included. Live is fed day by day, as the services would publish it, so each day's
 * snapshot holds exactly that day's events; the rebuild reads the three streams from
 * sequence 1 and must close the same days with the same rows. Its batches are small, so that
 * many end inside a day: a rebuild keeps its aggregates in memory across batches and writes
 * each batch's changed rows, dirty flags included (rows only closed by a batch as well).
 * The same rebuild over a tiny memory budget drops its memory part-way and goes on the live
 * way: it equals live only if the tables held everything the memory did at that batch's end.
 */
const env = useTestEnvironment({ label: "reporting_rebuild_eq" });
let h: Harness;

beforeAll(async () => {
  h = await startHarness(env);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** Caught up, with more patience than one `caughtUp` on a loaded machine. */
async function caughtUp(tries = 6): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await h.caughtUp();
    } catch (err) {
      if (i >= tries) throw err;
    }
  }
}

/** The events grouped by the recorded day of the projection's clock, in order. */
function byRecordedDay(events: FeedEvent[]): FeedEvent[][] {
  const days: FeedEvent[][] = [];
  let day = "";
  for (const e of events) {
    const d = civilDate(e.event.recordedAt.toISOString(), CLOCK_ZONE);
    if (d !== day) days.push([]);
    day = d;
    days.at(-1)?.push(e);
  }
  return days;
}

/** The live read model, fed day by day (every case's reference). */
let tables: string[];
let events: number;

beforeAll(async () => {
  const history = syntheticHistory({ events: 2500 });
  events = history.events.length;
  const days = byRecordedDay(history.events);
  expect(days.length).toBeGreaterThan(5);
  for (const day of days) {
    await h.publish(day);
    await caughtUp();
  }
  await h.runner.stop();
  tables = (
    await h.pool.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables
        WHERE table_schema = 'proj_reporting' AND table_name NOT LIKE '\\_%' ORDER BY 1`,
    )
  ).rows.map((r) => r.t);
}, 900_000);

/*
 * The rebuild mode, and the same with a memory budget its held entries pass part-way:
 * from the batch after it goes over, the rebuild reads and writes the tables as live
 * (rebuild-budget.ts), which it can only do if every batch's flush left in them all that
 * the memory held (dirty flags, lessons, marks, pupils' rows, absences, pupil-days...).
 */
const CASES = [
  { mode: "in memory", budget: undefined },
  { mode: "over its memory budget part-way", budget: 1_500_000 },
];

it.each(CASES)(
  "a rebuild from sequence 1 $mode equals the live read model fed day by day, every table",
  async ({ budget }) => {
    const fallbacks: { batches: number }[] = [];
    const projection = createReportingProjection({
      rebuildMemoryBytes: budget,
      logger: { info: (fields) => fallbacks.push(fields as { batches: number }) },
    });
    const r = await rebuildProjection({
      projection,
      pool: h.pool,
      nc: h.nc,
      names: h.names,
      keepOld: true,
      batchSize: 100,
    });
    const retired = `proj_reporting__v${projection.version}_retired`;
    try {
      expect(r.events).toBe(events);
      if (budget === undefined) expect(fallbacks).toEqual([]);
      else {
        // Several batches held in memory (days closed there), several after on the live way.
        expect(fallbacks).toHaveLength(1);
        expect(fallbacks[0]?.batches).toBeGreaterThan(3);
        expect(fallbacks[0]?.batches).toBeLessThan(r.batches - 3);
      }
      const rows = (schema: string, table: string) => tableRows(h.pool, schema, table);
      const closed = await h.pool.query<{ n: string }>(
        `SELECT count(DISTINCT known_day) AS n FROM "${retired}".perf_h`,
      );
      expect(Number(closed.rows[0]?.n)).toBeGreaterThan(5);
      for (const t of tables) {
        const live = await rows(retired, t);
        expect({ t, rows: await rows("proj_reporting", t) }).toEqual({ t, rows: live });
      }
    } finally {
      // The live read model back in place for the next case.
      await h.pool.query("DROP SCHEMA proj_reporting CASCADE");
      await h.pool.query(`ALTER SCHEMA "${retired}" RENAME TO proj_reporting`);
    }
  },
  900_000,
);
