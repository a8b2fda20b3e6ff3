import type { ApplyContext, QueryFn } from "@otmetka/projections";
import type { FeedScratch } from "./projection.js";

/**
 * Identity and grades are applied in separate transactions (one session per context), so an
 * erasure may commit while a grades batch is writing the same pupil's facts: its deletes do
 * not see that batch's uncommitted rows, and the batch's "not erased" check does not see the
 * uncommitted erasure. A per-read-model advisory lock orders them: grades batches share it
 * (they never wait for each other), an erasure takes it exclusively. Then either the erasure
 * waits for the batch and deletes its rows, or the batch waits for the erasure and its later
 * statements (a new snapshot each, READ COMMITTED) see `erased`. Class id 0x50520001: "PR"
 * (portal), lock kind 1, apart from the event store's 0x4553xxxx.
 */
export const ERASURE_LOCK_CLASS = 0x50520001;

/**
 * Before a grades batch's first write (any: a revoked mark's row lock held while waiting here
 * would deadlock with an erasure deleting that pupil's marks); once per batch.
 */
export async function shareErasureFence(ctx: ApplyContext<FeedScratch>): Promise<void> {
  if (ctx.scratch.erasureFenced) return;
  await ctx.query("SELECT pg_advisory_xact_lock_shared($1, hashtext($2))", [
    ERASURE_LOCK_CLASS,
    ctx.schema,
  ]);
  ctx.scratch.erasureFenced = true;
}

/**
 * Before an erasure's first statement (in read model `schema`): waits for grades batches in
 * flight to commit, and holds later ones until this transaction ends.
 */
export async function holdErasureFence(query: QueryFn, schema: string): Promise<void> {
  await query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [ERASURE_LOCK_CLASS, schema]);
}

/**
 * SQL condition: the pupil `personIdSql` names is not erased (in `pupils` of the read model
 * `t` qualifies). A pupil the feed has not seen yet is not erased.
 */
export const notErased = (t: (table: string) => string, personIdSql: string): string =>
  `NOT EXISTS (SELECT 1 FROM ${t("pupils")} WHERE person_id = ${personIdSql} AND erased)`;
