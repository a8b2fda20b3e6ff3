import { setTimeout as sleep } from "node:timers/promises";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type MessagingNames, Wakeup } from "@otmetka/messaging";
import type pg from "pg";
import { applyBatch, blamedEvent } from "./apply-batch.js";
import { RebuildAborted, SetAsideLimitReached } from "./errors.js";
import { buildSchema, liveSchema, retiredSchema, sourceFilter } from "./names.js";
import { OrderedSource } from "./ordered-source.js";
import type { Projection, ProjectionEvent } from "./projection.js";
import type { BatchEntry } from "./projection-event.js";
import {
  createReadModelSchema,
  quoteIdent,
  readCheckpoints,
  readVersion,
  schemaExists,
} from "./runtime-tables.js";
import { drained } from "./serial-queries.js";
import {
  eventDataError,
  readSetAside,
  type SetAsideEvent,
  type SetAsideReason,
  setAsideLimit,
  toSetAside,
} from "./set-aside.js";

export interface RebuildOptions {
  projection: Projection<any>;
  pool: pg.Pool;
  nc: NatsConnection;
  names: MessagingNames;
  /** Events per transaction; default 10,000. */
  batchSize?: number;
  /** Keep the replaced version as `proj_<name>__v<N>_retired` instead of dropping it. */
  keepOld?: boolean;
  onProgress?: (p: RebuildProgress) => void;
  /**
   * An event PostgreSQL refused that this rebuild found (not one the live read model had
   * set aside already): it is recorded in the new version's `_set_aside` like those.
   */
  onSetAside?: (event: SetAsideEvent) => void;
  /**
   * Most set-aside events the new version may hold (the live version's, carried over, count);
   * one more found fails the rebuild with `SetAsideLimitReached`. Default: the projection's
   * `maxSetAside`, else 20, as for its runner; 0: a refused event fails the rebuild.
   */
  maxSetAside?: number;
  signal?: AbortSignal;
}

export interface RebuildProgress {
  phase: "building" | "swapping" | "done";
  /** Messages read so far (applied, skipped or deferred). */
  read: number;
  /** Messages in the sources when the rebuild started (grows if writes go on). */
  total: number;
}

export interface RebuildResult {
  events: number;
  batches: number;
  durationMs: number;
  /**
   * Of which in transactions (handlers, SQL, commits), and decoding messages into events
   * (done by the readers as messages arrive, overlapping the transactions).
   */
  applyMs: number;
  decodeMs: number;
  /** When the new version became the live one. */
  swappedAt: Date;
  checkpoints: Record<string, number>;
  /** The version replaced (0 when there was none) and where it went (if kept). */
  replacedVersion: number;
  retired: string | undefined;
  /** Events recorded in the new version's `_set_aside` (PostgreSQL refused them). */
  setAside: number;
}

/**
 * A pass failed with a data exception (`eventDataError`) in one of the batches not known to
 * have committed: the rebuild finds the event among `entries` and starts again without it.
 */
class RefusedBatch extends Error {
  constructor(
    readonly error: unknown,
    readonly entries: readonly BatchEntry[],
    readonly carry: object,
  ) {
    super(String((error as Error)?.message ?? error));
  }
}

/**
 * Blue/green rebuild: fills a fresh schema from sequence 1 of every source (ordered
 * consumers, one checkpoint per source, large batches, no inbox rows), and once caught up
 * swaps it in: in one transaction it locks the live checkpoints (waiting for the live
 * runner's batch in flight, holding off the next), applies whatever the live version had
 * already applied beyond the rebuild, and renames the schemas. The live runner's next batch
 * then resolves to the new schema and skips what its checkpoints already cover.
 */
export async function rebuildProjection(o: RebuildOptions): Promise<RebuildResult> {
  return (await rebuildLocked(o, false)) as RebuildResult;
}

/**
 * rebuildProjection unless the live read model is already at the projection's version (or
 * newer): undefined then. For services upgrading at start (startRunnerUpgrading): of two
 * instances that both found an older version, the second waits for the first's rebuild and
 * starts on it instead of building again.
 */
export async function rebuildIfOlder(o: RebuildOptions): Promise<RebuildResult | undefined> {
  return rebuildLocked(o, true);
}

/** Advisory lock class of "a rebuild of this projection runs" (key 2 = hashtext(build schema)). */
export const REBUILD_LOCK_CLASS = 0x50524f42; // "PROB"

/**
 * One rebuild of a projection at a time, whoever runs it (a CLI, a starting instance): they
 * share the build schema, and a second one would drop it under the first (whose batches or
 * swap then fail or wait for ever). The later one waits, on a session lock of its own
 * connection, until the first has swapped or failed.
 */
async function rebuildLocked(
  o: RebuildOptions,
  onlyIfOlder: boolean,
): Promise<RebuildResult | undefined> {
  const key = [REBUILD_LOCK_CLASS, buildSchema(o.projection)];
  const lock = await o.pool.connect();
  // A checked-out client's unheard 'error' would crash the process; losing the connection
  // loses the lock, and the rebuild's own connections report the failure.
  const ignore = () => {};
  lock.on("error", ignore);
  let held = false;
  try {
    while (!held) {
      if (o.signal?.aborted) throw new RebuildAborted(o.projection.name);
      const r = await lock.query<{ ok: boolean }>(
        "SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok",
        key,
      );
      held = r.rows[0]?.ok === true;
      if (!held) await sleep(250, undefined, { signal: o.signal }).catch(() => {});
    }
    if (onlyIfOlder) {
      const live = liveSchema(o.projection);
      if (
        (await schemaExists(lock, live)) &&
        (await readVersion(lock, live)) >= o.projection.version
      ) {
        return undefined;
      }
    }
    return await rebuildUnlocked(o);
  } finally {
    let broken: Error | undefined;
    if (held) {
      await lock.query("SELECT pg_advisory_unlock($1, hashtext($2))", key).catch((err: Error) => {
        broken = err; // a discarded connection releases its session lock
      });
    }
    lock.off("error", ignore);
    lock.release(broken);
  }
}

async function rebuildUnlocked(o: RebuildOptions): Promise<RebuildResult> {
  const started = Date.now();
  const limit = setAsideLimit(o.projection, o.maxSetAside);
  // Refused events are not applied: the ones the live version set aside, and any a pass
  // of this rebuild meets. A handler's state kept in `carry` cannot be rolled back to the
  // middle of a failed batch, so the rebuild cannot split a batch as the live runner does:
  // it finds the event (findRefused), then builds again from sequence 1 without it. Each
  // restart costs a pass, but only for an event the live version had not met already.
  const setAside = await setAsideBy(o.pool, o.projection, liveSchema(o.projection));
  for (;;) {
    try {
      return await buildAndSwap(o, setAside, started);
    } catch (err) {
      if (!(err instanceof RefusedBatch)) throw err;
      // Nothing is set aside: fail as before set-aside existed (without a pass to find it).
      if (limit === 0) throw err.error;
      const found = await findRefused(o, setAside, err);
      // Not found alone (or found again): the failure is not one event's; fail as before.
      if (!found || setAside.has(found.eventId)) throw err.error;
      if (setAside.size + 1 > limit) {
        throw new SetAsideLimitReached(o.projection.name, limit, setAside.size, found, err.error);
      }
      setAside.set(found.eventId, { ...found, at: found.setAsideAt });
      o.onSetAside?.(found);
    }
  }
}

async function buildAndSwap(
  o: RebuildOptions,
  setAside: Map<string, SetAsideReason>,
  started: number,
): Promise<RebuildResult> {
  const { projection, pool, names } = o;
  const batchSize = o.batchSize ?? 10_000;
  const live = liveSchema(projection);
  const build = buildSchema(projection);
  const createBuildSchema = () =>
    withClient(pool, async (c) => {
      // An aborted rebuild's schema goes first (one round trip with BEGIN).
      await c.query(`BEGIN; DROP SCHEMA IF EXISTS ${quoteIdent(build)} CASCADE`);
      await createReadModelSchema(c, projection, build, "rebuild");
      await c.query("COMMIT");
    });

  const js = jetstream(o.nc);
  const wakeup = new Wakeup();
  const sources = projection.sources.map(
    (s) =>
      new OrderedSource(
        js,
        s.context,
        names.contextStream(s.context).name,
        sourceFilter(names, s.context),
        Math.min(batchSize, 5000),
        batchSize * 2,
        wakeup,
      ),
  );
  // Per source, then per stream (no key string built per event).
  const seenVersion = new Map<string, Map<string, number>>();
  // Re-published copies carry a stream version already seen: skipped without an inbox.
  const firstSeen = (e: ProjectionEvent) => {
    let seen = seenVersion.get(e.context);
    if (!seen) {
      seen = new Map();
      seenVersion.set(e.context, seen);
    }
    if ((seen.get(e.streamId) ?? 0) >= e.version) return false;
    seen.set(e.streamId, e.version);
    return true;
  };
  let read = 0;
  let events = 0;
  let batches = 0;
  // Read so far plus what is buffered and what the server said was still pending.
  const total = () =>
    read +
    sources.reduce(
      (n, s) => n + s.buffer.length + (Number.isFinite(s.remaining) ? s.remaining : s.total),
      0,
    );
  const progress = (phase: RebuildProgress["phase"]) =>
    o.onProgress?.({ phase, read, total: total() });

  let applyMs = 0;
  let setAsideCount = 0;
  // Batches not known to have committed, oldest first, with their commit (undefined: the
  // batch failed before it was sent whole): where a data exception's event is looked for.
  let unconfirmed: { entries: BatchEntry[]; committed: Promise<void> | undefined }[] = [];
  // Handed to every batch (ApplyContext.carry): what the projection keeps between batches.
  const carry = {};
  // The build schema's checkpoints as the batches sent so far leave them; undefined once a
  // batch parked an event (later ones read `_pending` through the lock statement).
  let known: Map<string, number> | undefined = new Map(
    projection.sources.map((s) => [s.context, 0]),
  );
  const apply = async (
    client: pg.PoolClient,
    entries: BatchEntry[],
    ownTransaction = false,
  ): Promise<{ committed: Promise<void> }> => {
    const t0 = performance.now();
    const sent = { entries, committed: undefined as Promise<void> | undefined };
    unconfirmed.push(sent);
    const r = await applyBatch(client, projection, build, entries, {
      mode: "rebuild",
      firstSeen,
      carry,
      begin: ownTransaction,
      commit: ownTransaction,
      // The build schema is dropped and built again after a crash, so its batches need not
      // wait for the WAL flush (under I/O load that wait was most of a batch); the swap's
      // own commit is synchronous and flushes the WAL of every batch before it.
      asyncCommit: ownTransaction,
      pipeline: ownTransaction && known ? { checkpoints: known } : undefined,
      setAside,
    });
    setAsideCount += r.setAside.length;
    known = r.deferred > 0 || r.released > 0 ? undefined : known && r.checkpoints;
    read += entries.length;
    events += r.applied;
    applyMs += performance.now() - t0;
    batches++;
    // The swap's batches commit with the swap (or not at all).
    sent.committed = ownTransaction ? r.committed : undefined;
    // Wrapped: an async function returning the promise itself would wait for it.
    return { committed: r.committed };
  };
  const takeBatch = (): BatchEntry[] => interleaveByTime(sources, batchSize);

  // 1. runs its batches on one connection, each computed while PostgreSQL still runs the
  // previous one's writes and commit (at most one in flight; the next waits for it).
  let building: pg.PoolClient | undefined;
  let inFlight: Promise<void> | undefined;
  const settle = async () => {
    const p = inFlight;
    inFlight = undefined;
    await p;
    // Everything sent before the batch now in flight has committed.
    unconfirmed = unconfirmed.slice(-1);
  };
  try {
    // The sources read while PostgreSQL creates the tables (a few hundred ms of DDL).
    await Promise.all([createBuildSchema(), ...sources.map((s) => s.start())]);
    progress("building");
    const liveExists = await schemaExists(pool, live);
    building = await pool.connect();
    // 1. Catch up with the heads of the sources, one large transaction per batch.
    while (true) {
      if (o.signal?.aborted) throw new RebuildAborted(projection.name);
      const buffered = sources.reduce((n, s) => n + s.buffer.length, 0);
      const allCaughtUp = sources.every((s) => s.caughtUp);
      // With a live version, caught up and less than a batch left: swap now. Waiting for an
      // empty buffer while writes go on is a chase a slow machine can lose for ever; the swap
      // applies what the live version is ahead by under its checkpoints' lock (a target that
      // no longer moves), and the live runner goes on from the swapped-in checkpoints.
      if (allCaughtUp && liveExists && buffered < batchSize) break;
      if (buffered >= batchSize || (allCaughtUp && buffered > 0)) {
        // Empty when a source that may still hold earlier events has none buffered yet.
        const entries = takeBatch();
        if (entries.length > 0) {
          const { committed } = await apply(building, entries, true);
          await settle();
          inFlight = committed;
          progress("building");
          continue;
        }
      }
      if (allCaughtUp) break;
      for (const s of sources) s.check();
      await wakeup.wait(200);
    }
    await settle();
    building.release();
    building = undefined;

    // 2. Swap, after applying what the live version got ahead with meanwhile (one
    // transaction: nothing of it commits unless all of it does).
    unconfirmed = [];
    progress("swapping");
    const swap = await withClient(pool, async (c) => {
      await c.query("BEGIN");
      let replacedVersion = 0;
      let retired: string | undefined;
      if (await schemaExists(c, live)) {
        await c.query(`LOCK TABLE ${quoteIdent(live)}._checkpoint IN ACCESS EXCLUSIVE MODE`);
        replacedVersion = await readVersion(c, live);
        // Events the live version set aside while this one was building are refused here too.
        for (const [id, reason] of await setAsideBy(c, projection, live)) setAside.set(id, reason);
        const liveCps = await readCheckpoints(c, live);
        while (true) {
          const built = await readCheckpoints(c, build);
          const behind = sources.filter(
            (s) => (built.get(s.source) ?? 0) < (liveCps.get(s.source) ?? 0),
          );
          if (behind.length === 0) break;
          if (o.signal?.aborted) throw new RebuildAborted(projection.name);
          const entries = takeBatch();
          if (entries.length > 0) await apply(c, entries);
          else {
            for (const s of behind) s.check();
            await wakeup.wait(200);
          }
        }
        retired = retiredSchema(projection, replacedVersion);
        await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(retired)} CASCADE`);
        await c.query(`ALTER SCHEMA ${quoteIdent(live)} RENAME TO ${quoteIdent(retired)}`);
      }
      await c.query(`ALTER SCHEMA ${quoteIdent(build)} RENAME TO ${quoteIdent(live)}`);
      await c.query("COMMIT");
      return { replacedVersion, retired };
    });
    const swappedAt = new Date();
    if (swap.retired && !o.keepOld) {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(swap.retired)} CASCADE`);
    }
    progress("done");
    const checkpoints = Object.fromEntries(await readCheckpoints(pool, live));
    return {
      events,
      batches,
      durationMs: Date.now() - started,
      applyMs: Math.round(applyMs),
      decodeMs: Math.round(sources.reduce((n, s) => n + s.decodeMs, 0)),
      swappedAt,
      checkpoints,
      replacedVersion: swap.replacedVersion,
      retired: o.keepOld ? swap.retired : undefined,
      setAside: setAsideCount,
    };
  } catch (err) {
    throw await refused(err, unconfirmed, carry);
  } finally {
    if (building) {
      // A failed batch: whatever was still running on the connection, then roll back.
      await inFlight?.catch(() => {});
      await drained(building);
      await building.query("ROLLBACK").catch(() => {});
      building.release();
    }
    await Promise.all(sources.map((s) => s.close()));
  }
}

/**
 * Up to `n` buffered entries of all sources merged by the events' recorded time, each
 * source's in sequence order: the order in which a live runner receives them (services
 * publish as they record), so a projection whose handlers follow the events' clock
 * (reporting closes a day when an event of a later day arrives) builds the same state as it
 * did live. Stops early at a source with nothing buffered that is not caught up (its next
 * event may be earlier); an entry without an event goes as soon as it heads its source.
 */
export function interleaveByTime(
  sources: readonly Pick<OrderedSource, "buffer" | "caughtUp" | "take">[],
  n: number,
): BatchEntry[] {
  const next = sources.map(() => 0);
  const order: number[] = []; // the source of each entry taken, in batch order
  const timeAt = (i: number): number => {
    const e = sources[i]?.buffer[next[i] as number];
    if (!e) return Number.NaN;
    const t = e.event ? Date.parse(e.event.time) : Number.NEGATIVE_INFINITY;
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const heads = sources.map((_, i) => timeAt(i));
  pick: while (order.length < n) {
    let best = -1;
    for (let i = 0; i < sources.length; i++) {
      const t = heads[i] as number;
      if (Number.isNaN(t)) {
        if (sources[i]?.caughtUp) continue;
        break pick;
      }
      if (best < 0 || t < (heads[best] as number)) best = i;
    }
    if (best < 0) break;
    order.push(best);
    next[best] = (next[best] as number) + 1;
    heads[best] = timeAt(best);
  }
  const parts = sources.map((s, i) => s.take(next[i] as number));
  const at = sources.map(() => 0);
  return order.map((i) => {
    const k = at[i] as number;
    at[i] = k + 1;
    return parts[i]?.[k] as BatchEntry;
  });
}

async function withClient<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await work(c);
  } catch (err) {
    await c.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** The set-aside events of a version of the read model, as reasons a batch refuses them for. */
async function setAsideBy(
  db: pg.Pool | pg.PoolClient,
  projection: Projection<any>,
  schema: string,
): Promise<Map<string, SetAsideReason>> {
  const rows = await readSetAside(db, projection.name, schema);
  return new Map(rows.map((r) => [r.eventId, { ...r, at: r.setAsideAt }]));
}

/**
 * `err` as a RefusedBatch when it, or the failure of a batch not known to have committed,
 * is a data exception (a pipelined batch's own error is then "transaction aborted": the
 * data exception is its predecessor's).
 */
async function refused(
  err: unknown,
  unconfirmed: readonly { entries: BatchEntry[]; committed: Promise<void> | undefined }[],
  carry: object,
): Promise<unknown> {
  const failed: BatchEntry[] = [];
  let cause = eventDataError(err) ? err : undefined;
  for (const b of unconfirmed) {
    const outcome = b.committed
      ? await b.committed.then(
          () => undefined,
          (e: unknown) => ({ e }),
        )
      : { e: undefined };
    if (!outcome) continue; // it committed after all
    failed.push(...b.entries);
    if (!cause && eventDataError(outcome.e)) cause = outcome.e;
  }
  return cause && failed.length > 0 ? new RefusedBatch(cause, failed, carry) : err;
}

/**
 * Applies the failed batches' entries again one at a time, each under a savepoint of one
 * transaction that is rolled back at the end, until one fails with a data exception: that
 * event (or the released one whose handler threw). The build schema holds what committed
 * before them; `carry` may hold part of the failed batch, which does not change whether a
 * value is one PostgreSQL refuses.
 */
async function findRefused(
  o: RebuildOptions,
  setAside: ReadonlyMap<string, SetAsideReason>,
  failure: RefusedBatch,
): Promise<SetAsideEvent | undefined> {
  const c = await o.pool.connect();
  try {
    await c.query("BEGIN");
    for (const entry of failure.entries) {
      await c.query("SAVEPOINT one");
      try {
        await applyBatch(c, o.projection, buildSchema(o.projection), [entry], {
          mode: "rebuild",
          carry: failure.carry,
          setAside,
        });
        await c.query("RELEASE SAVEPOINT one");
      } catch (err) {
        const reason = eventDataError(err);
        const culprit = blamedEvent(err) ?? entry.event;
        return reason && culprit ? toSetAside(o.projection.name, culprit, reason) : undefined;
      }
    }
    return undefined;
  } finally {
    await drained(c);
    await c.query("ROLLBACK").catch(() => {});
    c.release();
  }
}
