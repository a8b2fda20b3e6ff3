import type { Envelope } from "@otmetka/messaging";
import type { Kysely } from "kysely";
import { InvalidProjectionDefinition } from "./errors.js";
import { checkMaxSetAside } from "./set-aside.js";

/** One context stream a projection reads (`grades` → stream `GRADES`, subjects `grades.v1.…`). */
export interface ProjectionSource {
  context: string;
}

/** An event as a projection handler sees it. */
export interface ProjectionEvent<Data = unknown> extends Envelope {
  data: Data;
  subject: string;
  /** The source context whose stream delivered it (`grades`). */
  context: string;
  /** Sequence in the context's JetStream stream: the checkpoint of its source. */
  sequence: number;
  /** True when it comes back out of the pending table (it waited for a missing fact). */
  wasPending: boolean;
}

/** Raw SQL on the batch's connection, inside the batch's transaction. */
export type QueryFn = (
  text: string,
  params?: unknown[],
) => Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;

export interface ApplyContext<Scratch = unknown> {
  /** Kysely on the batch's transaction, with the read model's schema as default schema. */
  readonly db: Kysely<any>;
  /** The read model's schema: the live one, or the one a rebuild is filling. */
  readonly schema: string;
  readonly query: QueryFn;
  readonly mode: "live" | "rebuild";
  /** Per-batch state made by `createScratch`, for handlers that write in `flush`. */
  readonly scratch: Scratch;
  /**
   * A rebuild's state kept from batch to batch (the same object for all its batches);
   * undefined live. Safe to hold table contents in: the build schema is written only by this
   * rebuild, and a failed batch fails the whole rebuild, so memory cannot drift from it.
   */
  readonly carry: object | undefined;
  /**
   * Keep the current event until `provide(awaitingKey)`; later events of the same aggregate
   * stream wait behind it, so the stream stays in order. Call before writing anything for it.
   */
  defer(awaitingKey: string): void;
  /** A fact arrived: events waiting for `key` are applied, in their order, in this batch. */
  provide(key: string): void;
  /** Publish `<ctx>.v1.changed.<kind>.<id>` after the batch commits (once per batch). */
  changed(kind: string, id: string): void;
  /**
   * A write sent on `query` whose result nothing reads: the batch goes on without waiting
   * for it (the connection runs statements in the order sent, the commit last) and fails if
   * it fails. A pipelined rebuild computes its next batch meanwhile.
   */
  writeBehind(write: Promise<unknown>): void;
}

export interface Projection<Scratch = unknown> {
  /** Lower-case letters, digits, `_`; the live schema is `proj_<name>`. */
  name: string;
  /** Bumped when handlers or tables change; a rebuild builds it beside the old one. */
  version: number;
  sources: readonly ProjectionSource[];
  /** Context whose notice subjects carry changes: `<ctx>.v1.changed.<kind>.<id>`. */
  noticeContext?: string;
  /** Creates the read-model tables in `db`'s default schema (`schema`). */
  setup(db: Kysely<any>, schema: string): Promise<void>;
  /** Per-batch state; `carry` is the rebuild's state across batches (undefined live). */
  createScratch?(carry: object | undefined): Scratch;
  /** Applies one event; writes now through `ctx.db`/`ctx.query` or collects into `ctx.scratch`. */
  apply(event: ProjectionEvent, ctx: ApplyContext<Scratch>): Promise<void> | void;
  /** Writes what `apply` collected, once per batch, before the checkpoint. */
  flush?(ctx: ApplyContext<Scratch>): Promise<void>;
  /**
   * Most events the read model may hold set aside (rows of `_set_aside`); the one that would
   * exceed it stops the runner (`SetAsideLimitReached`) and fails a rebuild. Default 20; 0
   * sets nothing aside. A runner's or rebuild's own `maxSetAside` option overrides it.
   */
  maxSetAside?: number;
}

const NAME = /^[a-z][a-z0-9_]{0,40}$/;
const CONTEXT = /^[a-z][a-z0-9-]*$/;

/** Checks a projection's fields once, so that errors name the field instead of failing in SQL. */
export function defineProjection<S>(p: Projection<S>): Projection<S> {
  if (!NAME.test(p.name)) {
    throw new InvalidProjectionDefinition(
      "name",
      `must be lower-case letters, digits or '_' (max 41), got ${JSON.stringify(p.name)}`,
    );
  }
  if (!Number.isSafeInteger(p.version) || p.version < 1) {
    throw new InvalidProjectionDefinition("version", `must be an integer >= 1, got ${p.version}`);
  }
  if (p.sources.length === 0) {
    throw new InvalidProjectionDefinition("sources", "must name at least one context");
  }
  const seen = new Set<string>();
  for (const s of p.sources) {
    if (!CONTEXT.test(s.context) || seen.has(s.context)) {
      throw new InvalidProjectionDefinition(
        "sources",
        `must be distinct lower-case context names, got ${JSON.stringify(s.context)}`,
      );
    }
    seen.add(s.context);
  }
  if (p.maxSetAside !== undefined) checkMaxSetAside(p.maxSetAside);
  return p;
}
