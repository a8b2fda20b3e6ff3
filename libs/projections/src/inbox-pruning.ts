import type pg from "pg";
import { quoteIdent } from "./runtime-tables.js";

/** Rows deleted per statement, so pruning never holds a long transaction. */
export const PRUNE_CHUNK = 10_000;

/**
 * Deletes up to PRUNE_CHUNK inbox rows older than `retentionMs`; returns how many. Old rows
 * only guard against re-published copies of old events (redeliveries are skipped by the
 * checkpoint), so the retention must exceed the horizon of any repair re-publish.
 */
export async function pruneInbox(
  pool: pg.Pool,
  schema: string,
  retentionMs: number,
): Promise<number> {
  const s = quoteIdent(schema);
  const r = await pool.query(
    `DELETE FROM ${s}._inbox WHERE ctid = ANY(ARRAY(
       SELECT ctid FROM ${s}._inbox
        WHERE applied_at < now() - make_interval(secs => $1::double precision / 1000)
        LIMIT ${PRUNE_CHUNK}))`,
    [retentionMs],
  );
  return r.rowCount ?? 0;
}
