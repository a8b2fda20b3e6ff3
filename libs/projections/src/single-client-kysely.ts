import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";

/**
 * Kysely bound to one checked-out connection whose transaction the runtime drives itself
 * (BEGIN/COMMIT on the raw client), so handlers' kysely writes, the runtime's raw SQL and
 * COPY all share one transaction.
 */
export function kyselyOn(
  client: pg.PoolClient,
  /** How its statements reach the client (default: `client.query`). */
  query?: (text: string, params?: unknown[]) => Promise<unknown>,
): Kysely<any> {
  const borrowed = {
    query: query ?? client.query.bind(client),
    release() {}, // the runtime releases the client, not kysely
  };
  return new Kysely<any>({
    dialect: new PostgresDialect({
      pool: { connect: async () => borrowed as unknown as pg.PoolClient, end: async () => {} },
    }),
  });
}
