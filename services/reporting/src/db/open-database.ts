import { ensureDatabase } from "@otmetka/eventstore";
import pg from "pg";

/**
 * Reporting keeps no event log of its own: its database holds read models only (one schema
 * per projection, created by the projection runtime). This creates the database if needed.
 */
export async function openReportingDatabase(databaseUrl: string, max = 10): Promise<pg.Pool> {
  await ensureDatabase(databaseUrl);
  return new pg.Pool({ connectionString: databaseUrl, max });
}
