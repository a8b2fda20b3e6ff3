import { type PrivatePostgres, rejectionOf, startPrivatePostgres } from "@otmetka/testing";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createEventStorePool, surviveConnectionLoss } from "./pool.js";

// pg emits 'error' on a checked-out client whose connection ends; unheard, that is an
// uncaught exception, which a service's runService turns into shutdown and exit 1 (and
// vitest into an unhandled error failing this file).
describe("a pool across a PostgreSQL restart", () => {
  let server: PrivatePostgres | undefined;
  afterAll(async () => {
    await server?.dispose();
  });

  it("clients checked out when the server shuts down fail their queries, the process lives on and the pool reconnects", async () => {
    server = await startPrivatePostgres();
    const idleErrors: Error[] = [];
    const pools = [
      createEventStorePool({ connectionString: server.url, max: 3 }),
      surviveConnectionLoss(new pg.Pool({ connectionString: server.url, max: 3 }), (err) =>
        idleErrors.push(err),
      ),
    ];
    const held = await Promise.all(
      pools.flatMap((pool) => [pool.connect(), pool.connect(), pool.connect()]),
    );
    // Per pool: one held between queries (a transaction whose handler code runs), one with a
    // query in flight, one released back to idle.
    const between = held.filter((_, i) => i % 3 === 0);
    const busy = held.filter((_, i) => i % 3 === 1);
    for (const c of held.filter((_, i) => i % 3 === 2)) c.release();
    for (const c of between) await c.query("BEGIN");
    const inFlight = busy.map((c) => rejectionOf(c.query("SELECT pg_sleep(60)")));
    // Not events.once: it listens for 'error' too, which would hide the crash under test.
    const ended = held.map((c) => new Promise((resolve) => c.once("end", resolve)));

    await server.stop();
    await Promise.all(ended);

    for (const err of await Promise.all(inFlight)) expect(err.message).toMatch(/terminat/);
    for (const c of between) await expect(c.query("COMMIT")).rejects.toThrow();
    for (const c of [...between, ...busy]) c.release();
    expect(idleErrors.length).toBe(1);

    await server.restart();
    for (const pool of pools) {
      expect((await pool.query<{ n: number }>("SELECT 1 AS n")).rows).toEqual([{ n: 1 }]);
      await pool.end();
    }
  });
});
