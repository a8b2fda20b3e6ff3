import { messagingNames } from "@otmetka/messaging";
import { liveSchema } from "@otmetka/projections";
import { waitFor } from "@otmetka/testing";
import { FEED_PROJECTION } from "../feed/projection.js";
import type { Harness } from "./harness.js";

/** Whether the feed's projection has applied every upstream event published so far. */
async function hasApplied(h: Harness): Promise<boolean> {
  const mnames = messagingNames(h.prefix);
  const want = new Map<string, number>();
  for (const ctx of ["identity", "curriculum", "grades"]) {
    want.set(ctx, (await h.jsm.streams.info(mnames.contextStream(ctx).name)).state.last_seq);
  }
  const cps = await h.pool.query<{ source: string; seq: string }>(
    `SELECT source, seq::text AS seq FROM "${liveSchema({ name: FEED_PROJECTION })}"._checkpoint`,
  );
  const have = new Map(cps.rows.map((r) => [r.source, Number(r.seq)]));
  for (const [ctx, last] of want) if (last > 0 && (have.get(ctx) ?? 0) < last) return false;
  return true;
}

/** Waits until the feed's projection has applied every upstream event emitted so far. */
export async function applied(h: Harness): Promise<void> {
  await waitFor("the feed to apply every event", () => hasApplied(h), 30_000);
}

/**
 * Waits until the feed has applied every upstream event, no snapshot is waiting for its
 * debounce (or is due within the hour) and the outbox is empty: from then on PORTAL holds everything the feed will publish
 * for what was emitted so far.
 */
export async function settle(h: Harness): Promise<void> {
  await waitFor(
    "the feed to settle",
    async () => {
      if (!(await hasApplied(h))) return false;
      const pending = await h.pool.query<{ n: string }>(
        // An entry due on an enrollment's day weeks ahead is no snapshot in flight.
        `SELECT (SELECT count(*) FROM portal.dirty WHERE due_at < now() + interval '1 hour')
              + (SELECT count(*) FROM portal.outbox) AS n`,
      );
      return Number(pending.rows[0]?.n) === 0;
    },
    30_000,
  );
}
