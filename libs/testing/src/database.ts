import pg from "pg";
import { createdAtOf, TEST_DB_PREFIX, uniqueSuffix } from "./names.js";

export interface TestDatabase {
  name: string;
  /** Connection URL of the new, empty database. */
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, uniquely named database on the server of `adminUrl`. */
export async function createTestDatabase(adminUrl: string, label = "db"): Promise<TestDatabase> {
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .slice(0, 16);
  const name = `${TEST_DB_PREFIX}${uniqueSuffix()}_${safeLabel}`.slice(0, 63);
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => dropDatabase(adminUrl, name),
  };
}

/**
 * Drops a database, forcing off whatever is still connected after a short grace: a pool's
 * `end()` resolves before its sockets close, and a backend terminated then reaches a client
 * that no longer has an error listener (an unhandled "terminating connection" in the file).
 */
export async function dropDatabase(adminUrl: string, name: string, graceMs = 2_000): Promise<void> {
  await admin(adminUrl, async (c) => {
    const until = Date.now() + graceMs;
    while (Date.now() < until) {
      const r = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
        [name],
      );
      if ((r.rows[0]?.n ?? 0) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/**
 * Drops harness databases older than `maxAgeHours` that a killed run left behind. Younger ones
 * may belong to a run still going on another clone, so they are left alone.
 */
export async function dropStaleTestDatabases(adminUrl: string, maxAgeHours = 6): Promise<string[]> {
  const rows = await admin(adminUrl, async (c) => {
    const r = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`${TEST_DB_PREFIX}%`],
    );
    return r.rows.map((x) => x.datname);
  });
  const cutoff = Date.now() - maxAgeHours * 3600_000;
  const stale = rows.filter((n) => (createdAtOf(n)?.getTime() ?? Date.now()) < cutoff);
  for (const name of stale) await dropDatabase(adminUrl, name).catch(() => {});
  return stale;
}
