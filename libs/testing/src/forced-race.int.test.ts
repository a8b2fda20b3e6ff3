import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { raceBehindLocks, useTestEnvironment } from "./index.js";

const env = useTestEnvironment({ label: "forced_race" });
let pool: pg.Pool;
const CLASS = 0x45530001;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 4 });
  await pool.query("CREATE TABLE log (n serial, who text, seen int)");
});
afterAll(async () => {
  await pool?.end();
});

/** A writer as an event store appends: reads, then locks the key, then writes and commits. */
const writer = (who: string) => async () => {
  const c = await pool.connect();
  try {
    const seen = (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM log")).rows[0]!.n;
    await c.query("BEGIN");
    await c.query("SELECT pg_advisory_xact_lock($1::int, hashtext('s'))", [CLASS]);
    await c.query("INSERT INTO log (who, seen) VALUES ($1, $2)", [who, seen]);
    await c.query("COMMIT");
    return who;
  } finally {
    c.release();
  }
};

describe("raceBehindLocks", () => {
  it("lets every call read before any commits, and commits them in the order given", async () => {
    for (const order of [
      ["a", "b"],
      ["b", "a"],
    ]) {
      await pool.query("TRUNCATE log");
      const outcomes = await raceBehindLocks(
        pool,
        { classId: CLASS, keys: ["s"] },
        order.map((who) => writer(who)),
      );
      expect(outcomes).toEqual(order.map((value) => ({ status: "fulfilled", value })));
      const { rows } = await pool.query("SELECT who, seen FROM log ORDER BY n");
      expect(rows).toEqual(order.map((who) => ({ who, seen: 0 })));
    }
  });

  it("hands back a call's refusal as its outcome", async () => {
    const outcomes = await raceBehindLocks(pool, { classId: CLASS, keys: ["s"] }, [
      writer("c"),
      async () => {
        await writer("d")();
        throw new Error("refused");
      },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
  });
});
