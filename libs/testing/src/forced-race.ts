import type pg from "pg";
import { eventually } from "./process.js";

/**
 * Forces a race that timing alone rarely produces: holds session advisory locks on
 * `(classId, hashtext(key))` of each key (an event store's stream locks), then starts the
 * calls one by one, each once the one before waits on a lock — it has read and decided and
 * waits to append — and only then lets them all go. Every call has thus read before any
 * committed. Calls that first wait on the same key commit (or fail) in the order given; calls
 * that first wait on different keys (a guard locked shared by one and written by the other)
 * go in the order the lock manager wakes them, so a test of such a pair checks that one wins,
 * not which. Resolves with their outcomes, in order.
 */
export async function raceBehindLocks<T>(
  pool: pg.Pool,
  lock: { classId: number; keys: readonly string[] },
  calls: readonly (() => Promise<T>)[],
): Promise<PromiseSettledResult<T>[]> {
  const holder = await pool.connect();
  try {
    for (const key of lock.keys)
      await holder.query("SELECT pg_advisory_lock($1::int, hashtext($2))", [lock.classId, key]);
    const started: Promise<PromiseSettledResult<T>>[] = [];
    for (const call of calls) {
      started.push(
        call().then(
          (value) => ({ status: "fulfilled", value }) as const,
          (reason: unknown) => ({ status: "rejected", reason }) as const,
        ),
      );
      await waitingOnLocks(holder, started.length);
    }
    await holder.query("SELECT pg_advisory_unlock_all()");
    return await Promise.all(started);
  } finally {
    await holder.query("SELECT pg_advisory_unlock_all()").catch(() => {});
    holder.release();
  }
}

/** Until `n` sessions of this database wait on an advisory lock (a call that ended instead fails it). */
async function waitingOnLocks(holder: pg.PoolClient, n: number) {
  await eventually(
    async () => {
      const { rows } = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      const waiting = rows[0]?.n ?? 0;
      if (waiting < n) throw new Error(`${waiting} of ${n} calls wait on the locks`);
    },
    10_000,
    10,
  );
}
