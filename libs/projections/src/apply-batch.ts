import type pg from "pg";
import {
  CheckpointBehind,
  InvalidProjectionDefinition,
  MalformedEventData,
  MissingReference,
  ProjectionVersionSuperseded,
} from "./errors.js";
import type { ApplyContext, Projection, ProjectionEvent, QueryFn } from "./projection.js";
import type { BatchEntry } from "./projection-event.js";
import { quoteIdent } from "./runtime-tables.js";
import { serialOn } from "./serial-queries.js";
import { type SetAsideEvent, type SetAsideReasons, setAsideRow, toSetAside } from "./set-aside.js";
import { kyselyOn } from "./single-client-kysely.js";
import { namingQuery } from "./statement-names.js";

export interface BatchOptions {
  mode: "live" | "rebuild";
  /** Open the transaction (BEGIN rides with the first statement); else the caller has. */
  begin?: boolean;
  /** Commit at the end (with the checkpoint update); the caller rolls back on a throw. */
  commit?: boolean;
  /**
   * Commit without waiting for the WAL flush (`synchronous_commit = off`, with `begin`). A
   * server crash may then lose the last batches committed, checkpoint and inbox rows with
   * them: the runner re-positions its consumers at the checkpoint and applies them again.
   */
  asyncCommit?: boolean;
  /**
   * Rebuilds write no inbox rows: they skip re-published copies by stream version instead
   * (returns false for an event already applied).
   */
  firstSeen?: (event: ProjectionEvent) => boolean;
  /** A rebuild's state across its batches (`ApplyContext.carry`). */
  carry?: object;
  /**
   * What the caller last committed per source: a stored checkpoint below it throws
   * CheckpointBehind before anything is applied (asynchronous commits lost in a crash).
   */
  committed?: ReadonlyMap<string, number>;
  /**
   * A rebuild that is the schema's only writer, knows its checkpoints and has parked nothing
   * in `_pending`: the handlers run without waiting for the lock statement (queued behind
   * the previous batch's commit on the same connection), and the result comes back once the
   * commit is sent; `BatchResult.committed` settles when it (and every write) has run.
   */
  pipeline?: { checkpoints: ReadonlyMap<string, number> };
  /**
   * Events (by id, released ones included) to record in `_set_aside` instead of applying:
   * the runner found that PostgreSQL refuses to store them (see `eventDataError`). Their
   * sequence moves the checkpoint and (live) their id is claimed in the inbox, as for an
   * applied event.
   */
  setAside?: SetAsideReasons;
}

export interface ChangedItem {
  kind: string;
  id: string;
}

export interface BatchResult {
  /** Events whose handlers ran (including ones released from the pending table). */
  applied: number;
  /** Already covered by the checkpoint (redeliveries after a crash or a swap). */
  skippedBySequence: number;
  /** Already in the inbox (re-published copies) or, in a rebuild, seen by stream version. */
  skippedDuplicates: number;
  /** Times an event was put in the pending table to wait for a missing fact. */
  deferred: number;
  /** Events that came out of the pending table and were applied. */
  released: number;
  malformed: number;
  /** Events recorded in `_set_aside` instead of applied (`BatchOptions.setAside`). */
  setAside: SetAsideEvent[];
  changed: ChangedItem[];
  /** Highest sequence per source after the batch (what the checkpoint table now holds). */
  checkpoints: Map<string, number>;
  /** Settles once the batch has committed (at once unless `pipeline`); rejects if it failed. */
  committed: Promise<void>;
}

interface PendingRow {
  awaiting: string;
  event: ProjectionEvent;
}

/**
 * Applies one batch inside the caller's open transaction: lock the sources' checkpoints (the
 * first statement on the schema, so a swap waits for us and we wait for a swap), skip what the
 * checkpoint covers, claim event ids in the inbox, run handlers in order, keep events that wait
 * for a missing fact, release the ones a handler provided, flush, move the checkpoints.
 */
export async function applyBatch(
  client: pg.PoolClient,
  projection: Projection<any>,
  schema: string,
  entries: readonly BatchEntry[],
  options: BatchOptions,
): Promise<BatchResult> {
  const s = quoteIdent(schema);
  const result = emptyBatchResult();
  // Writes not waited for (ctx.writeBehind, a pipelined batch's lock): settled before the
  // batch counts as committed. Each gets a handler at once, so a failure is not unhandled.
  const behind: Promise<unknown>[] = [];
  const writeBehind = (write: Promise<unknown>) => {
    write.catch(() => {});
    behind.push(write);
  };
  const sources = [...new Set(entries.map((e) => e.source))];
  // Simple-protocol statements with literals (source names are checked context names, event
  // ids are quoted), so that BEGIN, the inbox claim and COMMIT ride along: 3 round trips per
  // batch (lock + claim, the handlers' flush, checkpoint + commit) instead of 7.
  const sourceList = sources.map(literal).join(", ");
  const lockSql = `SELECT source, seq, (SELECT version FROM ${s}._meta) AS version,
       EXISTS (SELECT 1 FROM ${s}._pending) AS any_pending
       FROM ${s}._checkpoint WHERE source IN (${sourceList}) FOR UPDATE`;
  // The inbox claim rides along as one array literal (cheap to parse, unlike a VALUES list).
  // It may also claim ids at or below the checkpoint: those are skipped by sequence below
  // either way, and their rows are as harmless as the originals.
  const candidates = options.mode === "live" ? entries.filter((e) => e.event) : [];
  const claimSql =
    candidates.length === 0
      ? undefined
      : `INSERT INTO ${s}._inbox (event_id)
       SELECT unnest(${textArrayLiteral(candidates.map((e) => e.event!.eventId))}::text[])
       ON CONFLICT DO NOTHING RETURNING event_id`;
  type LockRow = { source: string; seq: string; version: number; any_pending: boolean };
  // Live batches send their repeated statements named (statement-names.ts); a plan made for
  // one batch size must not serve another (a generic plan assumes 100 rows per array).
  const named = options.mode === "live";
  const opening = options.begin
    ? [
        "BEGIN",
        ...(named ? ["SET LOCAL plan_cache_mode = force_custom_plan"] : []),
        ...(options.asyncCommit ? ["SET LOCAL synchronous_commit = off"] : []),
      ]
    : [];
  const statements = [...opening, lockSql, claimSql].filter(Boolean);
  // Every statement of the batch, in call order (writes not waited for included).
  const sql = serialOn(client, <R extends pg.QueryResultRow>(text: string, params?: unknown[]) =>
    client.query<R>(text, params),
  );
  const pipeline = options.mode === "rebuild" ? options.pipeline : undefined;
  let results: unknown[];
  if (pipeline) {
    // What the lock would return: the checkpoints the caller knows, nothing pending.
    writeBehind(sql(statements.join("; ")));
    const rows = [...pipeline.checkpoints].map(([source, seq]) => ({
      source,
      seq: String(seq),
      version: projection.version,
      any_pending: false,
    }));
    results = [...opening.map(() => ({ rows: [] })), { rows }];
  } else results = asResults(await sql(statements.join("; ")));
  const locked = results[opening.length] as { rows: LockRow[] };
  const claimed = claimSql ? (results.at(-1) as { rows: { event_id: string }[] }) : undefined;
  const anyPending = locked.rows.some((r) => r.any_pending);
  const checkpoint = new Map(locked.rows.map((r) => [r.source, Number(r.seq)]));
  for (const source of sources) {
    if (!checkpoint.has(source)) {
      throw new InvalidProjectionDefinition(
        "sources",
        `of ${projection.name} do not include ${JSON.stringify(source)} in schema ${schema}`,
      );
    }
  }
  const liveVersion = locked.rows[0]?.version ?? projection.version;
  if (options.mode === "live" && liveVersion > projection.version) {
    throw new ProjectionVersionSuperseded(projection.name, projection.version, liveVersion);
  }
  for (const [source, seq] of checkpoint) {
    const committed = options.committed?.get(source) ?? 0;
    if (seq < committed) throw new CheckpointBehind(source, seq, committed);
  }

  let fresh: ProjectionEvent[] = [];
  for (const e of entries) {
    const cp = checkpoint.get(e.source) ?? 0;
    if (e.sequence <= cp) {
      result.skippedBySequence++;
      continue;
    }
    result.checkpoints.set(e.source, Math.max(result.checkpoints.get(e.source) ?? 0, e.sequence));
    if (e.event) fresh.push(e.event);
    else result.malformed++;
  }

  if (claimed) {
    const ids = new Set(claimed.rows.map((r) => r.event_id));
    // A copy inside the same batch: only its first occurrence was claimed.
    const kept = fresh.filter((e) => ids.delete(e.eventId));
    result.skippedDuplicates += fresh.length - kept.length;
    fresh = kept;
  } else if (options.firstSeen) {
    const kept = fresh.filter(options.firstSeen);
    result.skippedDuplicates += fresh.length - kept.length;
    fresh = kept;
  }

  // Streams with an event already waiting: their later events wait behind it, in order.
  const blocked = new Map<string, string>();
  if (fresh.length > 0 && anyPending) {
    const r = await sql<{ stream_id: string; awaiting: string }>(
      `SELECT DISTINCT stream_id, awaiting FROM ${s}._pending WHERE stream_id = ANY($1::text[])`,
      [[...new Set(fresh.map((e) => e.streamId))]],
    );
    for (const row of r.rows) blocked.set(row.stream_id, row.awaiting);
  }

  const query: QueryFn = serialOn(
    client,
    named ? namingQuery(client) : (text: string, params?: unknown[]) => client.query(text, params),
  );
  const db = kyselyOn(client, query).withSchema(schema);
  const changed = new Map<string, ChangedItem>();
  let current: ProjectionEvent | undefined;
  let deferKey: string | undefined;
  let provided: string[] = [];
  const toPark: PendingRow[] = [];
  const ctx: ApplyContext<unknown> = {
    db,
    schema,
    query,
    mode: options.mode,
    scratch: projection.createScratch?.(options.carry),
    carry: options.carry,
    defer(key) {
      if (!current) {
        throw new InvalidProjectionDefinition("ctx.defer", "may only be called inside apply()");
      }
      deferKey = key;
    },
    provide(key) {
      provided.push(key);
    },
    changed(kind, id) {
      changed.set(`${kind}\u0000${id}`, { kind, id });
    },
    writeBehind,
  };

  const parkNow = async () => {
    if (toPark.length === 0) return;
    const rows = toPark.splice(0);
    await sql(
      `INSERT INTO ${s}._pending (awaiting, stream_id, event)
       SELECT a, st, ev FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS t(a, st, ev, n)
       ORDER BY n`,
      [
        rows.map((r) => r.awaiting),
        rows.map((r) => r.event.streamId),
        rows.map((r) => JSON.stringify(r.event)),
      ],
    );
  };

  const work = fresh;
  while (work.length > 0) {
    const event = work.shift() as ProjectionEvent;
    const reason = options.setAside?.get(event.eventId);
    if (reason) {
      result.setAside.push(toSetAside(projection.name, event, reason));
      continue;
    }
    const waitingFor = blocked.get(event.streamId);
    if (waitingFor !== undefined) {
      const copy = parkable(event);
      if (copy) {
        toPark.push({ awaiting: waitingFor, event: copy });
        result.deferred++;
      } else result.malformed++;
      continue;
    }
    current = event;
    deferKey = undefined;
    let malformed = false;
    try {
      await projection.apply(event, ctx);
    } catch (err) {
      if (err instanceof MalformedEventData && err.eventId === event.eventId) malformed = true;
      else if (err instanceof MissingReference) deferKey = err.awaitingKey;
      else throw blame(err, event);
    }
    current = undefined;
    const copy = deferKey !== undefined && !malformed ? parkable(event) : undefined;
    if (malformed || (deferKey !== undefined && !copy)) {
      // Its payload is not JSON (found on first read): skipped, like a message without an envelope.
      result.malformed++;
    } else if (deferKey !== undefined && copy) {
      blocked.set(event.streamId, deferKey);
      toPark.push({ awaiting: deferKey, event: copy });
      result.deferred++;
    } else {
      result.applied++;
      if (event.wasPending) result.released++;
    }
    if (provided.length > 0) {
      const keys = [...new Set(provided)];
      provided = [];
      await parkNow();
      const released = await sql<{ id: string; event: ProjectionEvent }>(
        `DELETE FROM ${s}._pending WHERE awaiting = ANY($1::text[]) RETURNING id, event`,
        [keys],
      );
      if (released.rows.length === 0) continue;
      const back = released.rows
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((r) => ({ ...r.event, wasPending: true }));
      const keySet = new Set(keys);
      for (const [stream, key] of blocked) if (keySet.has(key)) blocked.delete(stream);
      // Released events are older than anything left in this batch: they go first.
      work.unshift(...back);
    }
  }
  await parkNow();
  if (result.setAside.length > 0) {
    const rows = result.setAside.map(setAsideRow);
    writeBehind(
      sql(
        `INSERT INTO ${s}._set_aside (event_id, source, sequence, stream_id, version, type, sqlstate, message, set_aside_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
         ON CONFLICT (event_id) DO NOTHING`,
        rows[0]?.map((_, i) => rows.map((row) => row[i])),
      ),
    );
  }
  await projection.flush?.(ctx);

  const end: string[] = [];
  if (result.checkpoints.size > 0) {
    const values = [...result.checkpoints]
      .map(([k, v]) => `(${literal(k)}, ${Math.trunc(v)}::bigint)`)
      .join(", ");
    end.push(`UPDATE ${s}._checkpoint c SET seq = v.seq, updated_at = now()
         FROM (VALUES ${values}) AS v(source, seq) WHERE c.source = v.source`);
  }
  if (options.commit) end.push("COMMIT");
  if (end.length > 0) writeBehind(sql(end.join("; ")));
  result.committed = settled(behind);
  if (!pipeline) await result.committed;
  else result.committed.catch(() => {});
  for (const [source, seq] of checkpoint) {
    if (!result.checkpoints.has(source)) result.checkpoints.set(source, seq);
  }
  result.changed = [...changed.values()];
  return result;
}

const blamed = new WeakMap<object, ProjectionEvent>();

/** The error of a handler, marked with the event it was applying (`blamedEvent`). */
function blame(err: unknown, event: ProjectionEvent): unknown {
  if (err && typeof err === "object" && !blamed.has(err)) blamed.set(err, event);
  return err;
}

/**
 * The event whose handler threw `err` (undefined for a failure in `flush` or in a write not
 * waited for). Tells a released event's failure from that of the event that released it.
 */
export const blamedEvent = (err: unknown): ProjectionEvent | undefined =>
  err && typeof err === "object" ? blamed.get(err) : undefined;

/** Waits for every write to settle (none left running on the connection), then throws the first failure. */
async function settled(writes: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(writes);
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** The event as stored in `_pending` (payload parsed); undefined when its payload is not JSON. */
function parkable(event: ProjectionEvent): ProjectionEvent | undefined {
  try {
    return { ...event, data: event.data, wasPending: false };
  } catch (err) {
    if (err instanceof MalformedEventData) return undefined;
    throw err;
  }
}

/** A string as an SQL literal (standard_conforming_strings: only quotes need doubling). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A text[] as an SQL literal: elements double-quoted, `"` and `\` backslash-escaped. */
function textArrayLiteral(items: readonly string[]): string {
  return literal(`{${items.map((x) => `"${x.replace(/[\\"]/g, (m) => `\\${m}`)}"`).join(",")}}`);
}

/** The results of a simple-protocol query, one per statement. */
function asResults(r: unknown): unknown[] {
  return Array.isArray(r) ? r : [r];
}

/** A batch's result before anything is counted (applyBatch's start; an isolated batch's sum). */
export function emptyBatchResult(): BatchResult {
  return {
    applied: 0,
    skippedBySequence: 0,
    skippedDuplicates: 0,
    deferred: 0,
    released: 0,
    malformed: 0,
    setAside: [],
    changed: [],
    checkpoints: new Map(),
    committed: Promise.resolve(),
  };
}
