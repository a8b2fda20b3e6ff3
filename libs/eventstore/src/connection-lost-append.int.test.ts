import { setTimeout as sleep } from "node:timers/promises";
import { useTestEnvironment } from "@otmetka/testing";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { COPY_APPEND_MIN_EVENTS } from "./copy-append.js";
import { EventStore } from "./event-store.js";
import type { StreamAppend } from "./event-types.js";
import { createEventStorePool } from "./pool.js";
import { migrate } from "./test-support/store.js";

// The COPY paths (appendBulk, and appends of COPY_APPEND_MIN_EVENTS or more) queue BEGIN and
// the stream locks together on the connection. When the connection is gone by then (the
// server restarted or ended the backend just as the client was handed out), both fail; the
// lock query's failure was never awaited, an unhandled rejection, which a service's
// runService turns into shutdown and exit 1.
const env = useTestEnvironment({ label: "es_connection_lost_append" });
let pool: pg.Pool;
let admin: pg.Pool;
let kills = 0;

/** The pool, except that the next `kills` clients it hands out have lost their connection. */
function dyingPool(): pg.Pool {
  // pool.query checks out through connect(callback): that one is the real pool's.
  const connect = async (...callback: unknown[]) => {
    if (callback.length > 0) return (pool.connect as (...a: unknown[]) => unknown)(...callback);
    const client = await pool.connect();
    if (kills === 0) return client;
    kills--;
    const ended = new Promise((resolve) => client.once("end", resolve));
    await admin.query("SELECT pg_terminate_backend($1)", [
      (client as unknown as { processID: number }).processID,
    ]);
    await ended;
    return client;
  };
  return new Proxy(pool, {
    get: (target, prop) => (prop === "connect" ? connect : Reflect.get(target, prop, target)),
  });
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  await migrate(env.databaseUrl);
  pool = createEventStorePool({ connectionString: env.databaseUrl, max: 4 });
  admin = createEventStorePool({ connectionString: env.databaseUrl, max: 1 });
});
afterAll(async () => {
  await pool?.end();
  await admin?.end();
});
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
});

/** Two streams (one stream at an exact version takes the plain INSERT), COPY_APPEND_MIN_EVENTS events. */
const large = (prefix: string): StreamAppend[] =>
  [0, 1].map((s) => ({
    streamId: `${prefix}-${s}`,
    expected: "no_stream",
    events: Array.from({ length: COPY_APPEND_MIN_EVENTS / 2 }, (_, k) => ({
      type: "LessonScheduled",
      data: { s, k },
    })),
  }));

const count = async (prefix: string) =>
  Number(
    (
      await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM eventstore.events WHERE stream_id LIKE $1",
        [`${prefix}-%`],
      )
    ).rows[0]!.n,
  );

describe("a COPY-path append whose connection is lost before BEGIN", () => {
  for (const [path, append] of [
    ["appendBulk", (s: EventStore, id: string) => s.appendBulk(large(id))],
    ["appendMany (COPY)", (s: EventStore, id: string) => s.appendMany(large(id))],
  ] as const) {
    it(`${path} fails with the connection error, leaves no unhandled rejection, and a retry appends`, async () => {
      const store = new EventStore({ pool: dyingPool() });
      const prefix = `lost-${path.replace(/\W/g, "")}`;
      kills = 1;
      await expect(append(store, prefix)).rejects.toThrow(/not queryable|terminat/);
      await sleep(50); // unhandled rejections are reported after the microtask queue drains
      expect(unhandled).toEqual([]);
      expect(await count(prefix)).toBe(0);
      await append(store, prefix);
      expect(await count(prefix)).toBe(COPY_APPEND_MIN_EVENTS);
    });
  }
});
