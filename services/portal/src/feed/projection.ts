import {
  type ApplyContext,
  defineProjection,
  type ProjectionEvent,
  type QueryFn,
} from "@otmetka/projections";
import { applyCurriculum } from "./apply-curriculum.js";
import { applyGrades, flushScratch, gatherMark } from "./apply-grades.js";
import { applyIdentity } from "./apply-identity.js";
import { createFeedTables } from "./tables.js";

export const FEED_PROJECTION = "portal_feed";

/** Opens the portal id sealed in identity's PortalIdAssigned (identity's DecryptForPerson). */
export type PortalIdOpener = (personId: string, ciphertextBase64: string) => Promise<string | null>;

export interface FeedOptions {
  openPortalId: PortalIdOpener;
  /** A pupil's or programme's snapshot is published at most this long after its first change. */
  debounceMs: number;
}

/** Rows gathered across a batch and written once (the grades hot path). */
export interface FeedScratch {
  marks: unknown[][];
  dirtyPupils: Set<string>;
  /** This batch holds the erasure fence shared (erasure-fence.ts). */
  erasureFenced: boolean;
}

export interface FeedContext {
  ctx: ApplyContext<FeedScratch>;
  /** Statements on portal.outbox / portal.dirty: the batch's query live, nothing in a rebuild. */
  out: QueryFn;
  /** `"proj_portal_feed"` (quoted) or the rebuild's schema. */
  t: (table: string) => string;
  e: ProjectionEvent<Record<string, unknown>>;
  opts: FeedOptions;
}

/** The internal events → state + outbox projection behind the feed. */
export function portalFeedProjection(opts: FeedOptions) {
  return defineProjection<FeedScratch>({
    name: FEED_PROJECTION,
    // 2: exemptions (ExemptionGranted) kept for the snapshot; rebuilt at start (startFeed).
    // Still 2 with the erased-pupil checks on inserts: same tables, and a rebuild would only
    // drop rows of erased pupils (README, "Erasure in the read model").
    // 3: pupils.pending, an enrollment or transfer recorded ahead moves the pupil on its date.
    version: 3,
    sources: [{ context: "identity" }, { context: "curriculum" }, { context: "grades" }],
    setup: (db, schema) => createFeedTables(db, schema),
    createScratch: (): FeedScratch => ({
      marks: [[], [], [], [], [], [], []],
      dirtyPupils: new Set(),
      erasureFenced: false,
    }),
    flush: (ctx) => flushScratch(ctx, opts),
    async apply(event, ctx) {
      const f: FeedContext = {
        ctx,
        out: outboxQuery(ctx),
        t: (table) => `"${ctx.schema}".${table}`,
        e: event as ProjectionEvent<Record<string, unknown>>,
        opts,
      };
      if (event.type === "grades.v1.MarkRecorded") return gatherMark(f);
      // Anything else may read or change what was gathered: write it first, keeping event order.
      await flushScratch(ctx, opts);
      if (event.context === "identity") await applyIdentity(f);
      else if (event.context === "grades") await applyGrades(f);
      else if (event.context === "curriculum") await applyCurriculum(f);
    },
  });
}

export const str = (v: unknown): string => (typeof v === "string" ? v : "");
export const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0) || 0);
export const yearOf = (v: unknown): number =>
  num((v as { startYear?: unknown } | undefined)?.startYear);

const publishNothing: QueryFn = async () => ({ rows: [], rowCount: 0 });

/**
 * A rebuild replays history into a new schema: it must not publish that history again (the
 * stream already holds it), so outbox and dirty statements are dropped in rebuild mode.
 */
export function outboxQuery(ctx: ApplyContext<FeedScratch>): QueryFn {
  return ctx.mode === "live" ? ctx.query : publishNothing;
}
