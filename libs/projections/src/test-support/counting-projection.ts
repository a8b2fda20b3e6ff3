import { defineProjection, type Projection } from "../projection.js";

interface Tally {
  n: number;
  first: number;
  last: number;
  gaps: number;
}

/**
 * Counts events per aggregate stream and checks their order: `gaps` grows whenever a stream's
 * version is not the previous one + 1 (within a batch and across batches). One upsert per
 * batch, built in `flush`.
 */
export function countingProjection(
  name = "counting",
  opts: { flushDelayMs?: number; context?: string; noticeContext?: string } = {},
): Projection<Map<string, Tally>> {
  return defineProjection<Map<string, Tally>>({
    name,
    version: 1,
    sources: [{ context: opts.context ?? "grades" }],
    ...(opts.noticeContext ? { noticeContext: opts.noticeContext } : {}),
    async setup(db) {
      await db.schema
        .createTable("counts")
        .addColumn("stream_id", "text", (c) => c.primaryKey())
        .addColumn("events", "integer", (c) => c.notNull())
        .addColumn("last_version", "integer", (c) => c.notNull())
        .addColumn("gaps", "integer", (c) => c.notNull())
        .execute();
    },
    createScratch: () => new Map(),
    apply(e, ctx) {
      const t = ctx.scratch.get(e.streamId);
      if (!t) {
        ctx.scratch.set(e.streamId, { n: 1, first: e.version, last: e.version, gaps: 0 });
      } else {
        if (e.version !== t.last + 1) t.gaps++;
        t.n++;
        t.last = e.version;
      }
      ctx.changed("stream", e.streamId);
    },
    async flush(ctx) {
      if (ctx.scratch.size === 0) return;
      if (opts.flushDelayMs) await new Promise((r) => setTimeout(r, opts.flushDelayMs));
      const ids = [...ctx.scratch.keys()];
      const before = await ctx.query(
        `SELECT stream_id, last_version FROM ${ctx.schema}.counts WHERE stream_id = ANY($1::text[])`,
        [ids],
      );
      const last = new Map(
        before.rows.map((r) => [r.stream_id as string, r.last_version as number]),
      );
      const rows = [...ctx.scratch].map(([id, t]) => ({
        id,
        t,
        gaps: t.gaps + (t.first !== (last.get(id) ?? 0) + 1 ? 1 : 0),
      }));
      await ctx.query(
        `INSERT INTO ${ctx.schema}.counts AS c (stream_id, events, last_version, gaps)
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[])
         ON CONFLICT (stream_id) DO UPDATE SET events = c.events + excluded.events,
           last_version = excluded.last_version, gaps = c.gaps + excluded.gaps`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.t.n),
          rows.map((r) => r.t.last),
          rows.map((r) => r.gaps),
        ],
      );
    },
  });
}
