import type pg from "pg";

/**
 * `work` in a transaction of its own on a client of `pool`: BEGIN, `work`, COMMIT. What it
 * throws rolls the transaction back (a client whose ROLLBACK fails too is discarded, not
 * returned to the pool). The append-with-more-writes paths share it (appendCommand's and
 * appendCommands' alsoWrite), and services use it for transactions of their own.
 */
export async function inOwnTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const out = await work(client);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
