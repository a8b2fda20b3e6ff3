import { defineProjection, type Projection } from "../projection.js";

export interface Note {
  text?: string;
  tags?: unknown;
  /** `kill`: the handler cuts its own connection the first time it meets the event. */
  fault?: "kill" | "serialization-on-second";
  /** Stored in an integer column: 2 ** 40 is out of range (22003), though fine as JSON. */
  n?: number;
  /** Waits (`ctx.defer`) for this key unless it comes out of `_pending`. */
  awaits?: string;
  provides?: string;
}

/**
 * Stores each event's `text` in a text column and `tags` in a jsonb column, one row per
 * application (no key: an event applied twice shows as two rows). A NUL in either is what
 * PostgreSQL refuses (22021 in text, 22P05 in jsonb). `fault` plays transient failures.
 * `attempts` counts the applications per event id (transaction rolled back or not).
 */
export function notesProjection(
  name = "notes",
  opts: {
    attempts?: Map<string, number>;
    context?: string;
    /** Insert with `ctx.writeBehind` (a refused write then fails the batch at its commit). */
    writeBehind?: boolean;
    /** `Projection.maxSetAside` (unset: the runtime's default). */
    maxSetAside?: number;
  } = {},
): Projection {
  const { attempts = new Map<string, number>(), context = "grades" } = opts;
  return defineProjection({
    name,
    version: 1,
    sources: [{ context }],
    ...(opts.maxSetAside === undefined ? {} : { maxSetAside: opts.maxSetAside }),
    async setup(db) {
      await db.schema
        .createTable("notes")
        .addColumn("stream_id", "text", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("text", "text")
        .addColumn("tags", "jsonb")
        .addColumn("n", "integer")
        .execute();
    },
    async apply(e, ctx) {
      const d = e.data as Note;
      if (d.awaits && !e.wasPending) return ctx.defer(d.awaits);
      if (d.provides) ctx.provide(d.provides);
      const n = (attempts.get(e.eventId) ?? 0) + 1;
      attempts.set(e.eventId, n);
      if (d.fault === "kill" && n === 1) {
        await ctx.query("SELECT pg_terminate_backend(pg_backend_pid())");
      }
      if (d.fault === "serialization-on-second" && n === 2) {
        // A real 40001 from PostgreSQL, as a serializable transaction would get.
        await ctx.query(
          "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$",
        );
      }
      const insert = ctx.query(
        `INSERT INTO ${ctx.schema}.notes (stream_id, version, text, tags, n) VALUES ($1, $2, $3, $4::jsonb, $5)`,
        [
          e.streamId,
          e.version,
          d.text ?? null,
          d.tags === undefined ? null : JSON.stringify(d.tags),
          d.n ?? null,
        ],
      );
      if (opts.writeBehind) ctx.writeBehind(insert);
      else await insert;
    },
  });
}
