import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { rebuildProjection } from "@otmetka/projections";
import { useTestEnvironment } from "@otmetka/testing";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { syntheticHistory } from "./bench/synthetic-history.js";
import { openReportingDatabase } from "./db/open-database.js";
import { reportingProjection } from "./projections/projection.js";
import { ensureSourceStreams } from "./streams.js";
import { publishFeed } from "./test-support/feed.js";

/*
 * The rebuild is bound by SQL round trips (issue 11's rebuild ratio): the statements sent per
 * event, counted on the pool the rebuild uses, over the benchmark's kind of history (lessons
 * scheduled and conducted, attendance, marks, corrections, day closes). Handlers that query
 * per event (lessons and attendance once did: ~1.7 statements an event; 0.45 with a lesson
 * update or attendance statement per lesson) fail this, and so does a rebuild that writes its
 * aggregates and closes its days in SQL, or queries per enrollment (0.23; 0.03 now).
 */
const env = useTestEnvironment({ label: "reporting_statements" });
let pool: pg.Pool;
let nc: NatsConnection;

beforeAll(async () => {
  pool = await openReportingDatabase(env.databaseUrl);
  nc = await connect({ servers: env.natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await pool?.end();
});

/** The pool with every query of its clients counted. */
function countingPool(p: pg.Pool): { pool: pg.Pool; count: () => number } {
  let n = 0;
  const wrapped = new Proxy(p, {
    get(target, prop) {
      if (prop === "connect")
        return async () => {
          const c = await target.connect();
          const query = c.query.bind(c) as (...a: unknown[]) => unknown;
          return new Proxy(c, {
            get(t, k) {
              if (k === "query")
                return (...a: unknown[]) => {
                  n++;
                  return query(...a);
                };
              const v = Reflect.get(t, k, t);
              return typeof v === "function" ? v.bind(t) : v;
            },
          });
        };
      if (prop === "query")
        return (...a: unknown[]) => {
          n++;
          return (target.query as (...x: unknown[]) => unknown)(...a);
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { pool: wrapped, count: () => n };
}

it("a rebuild sends well under one statement per event", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureSourceStreams(nc, names);
  const h = syntheticHistory({ events: 3000 });
  await publishFeed(nc, names, h.events);
  const counted = countingPool(pool);
  const r = await rebuildProjection({
    projection: reportingProjection,
    pool: counted.pool,
    nc,
    names,
  });
  expect(r.events).toBe(h.events.length);
  const perEvent = counted.count() / r.events;
  console.info(
    `rebuild: ${counted.count()} statements for ${r.events} events (${perEvent.toFixed(2)} an event)`,
  );
  expect(perEvent).toBeLessThan(0.1);
}, 120_000);
