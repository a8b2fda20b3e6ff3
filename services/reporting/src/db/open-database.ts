import { ensureDatabase } from "@otmetka/eventstore";
import pg from "pg";

/**
 * Reporting keeps no event log of its own: its database holds read models only (one schema
 * per projection, created by the projection runtime). This creates the database if needed.
 */
export async function openReportingDatabase(
  databaseUrl: string,
  options: { max?: number; onIdleError?: (err: Error) => void } = {},
): Promise<pg.Pool> {
  await ensureDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // An idle connection the server closes (restart, admin shutdown) must not crash the process.
  pool.on("error", (err) => options.onIdleError?.(err));
  return pool;
}
