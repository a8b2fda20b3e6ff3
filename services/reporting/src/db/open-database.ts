import { ensureDatabase, surviveConnectionLoss } from "@otmetka/eventstore";
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
  // A connection the server closes (restart, admin shutdown) must not crash the process, idle
  // or checked out by a projection batch between its queries.
  return surviveConnectionLoss(
    new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 }),
    options.onIdleError,
  );
}
