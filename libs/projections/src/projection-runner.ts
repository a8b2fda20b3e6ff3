import { setTimeout as sleep } from "node:timers/promises";
import { type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "@otmetka/messaging";
import type pg from "pg";
import {
  applyBatch,
  type BatchResult,
  blamedEvent,
  type ChangedItem,
  emptyBatchResult,
} from "./apply-batch.js";
import { publishChangeNotices } from "./change-notices.js";
import { EventSetAside, ProjectionVersionSuperseded, SetAsideLimitReached } from "./errors.js";
import { PRUNE_CHUNK, pruneInbox } from "./inbox-pruning.js";
import { ensureLiveSchema } from "./live-schema.js";
import { liveDurable, sourceFilter } from "./names.js";
import type { Projection } from "./projection.js";
import { type BatchEntry, toEntry } from "./projection-event.js";
import { RunnerLock } from "./runner-lock.js";
import { readCheckpoints } from "./runtime-tables.js";
import {
  countSetAside,
  eventDataError,
  type SetAsideEvent,
  type SetAsideReason,
  setAsideLimit,
  toSetAside,
} from "./set-aside.js";
import { SourceSession } from "./source-session.js";

export interface ProjectionRunnerOptions {
  projection: Projection<any>;
  pool: pg.Pool;
  nc: NatsConnection;
  names: MessagingNames;
  /** Most messages in one transaction; default 1000. */
  maxBatch?: number;
  /** Ack wait of the durable consumers; default 30 s. */
  ackWaitMs?: number;
  /**
   * Wait for the WAL flush at each batch's commit; default false. Without it a batch commits
   * ~1.5 ms sooner (p99 ~8 ms under load): a read model loses nothing by it, since a batch
   * lost in a server crash loses its checkpoint too and is applied again from the stream.
   */
  synchronousCommit?: boolean;
  /**
   * How long the first event of a batch may wait for more (ms); default 5. Each batch has a
   * fixed cost (its transaction's round trips, the runtime's and the handlers' fixed
   * statements, notices): at a steady trickle, batches of one to three events spent most of
   * the CPU on it. 0 starts a batch as soon as anything is queued.
   */
  lingerMs?: number;
  /** A batch starts without lingering once this many events are queued; default 100. */
  lingerEvents?: number;
  /**
   * Most events the read model may hold set aside (rows of `_set_aside`, counted only when
   * one more is about to be set aside); the next one fails its batch with
   * `SetAsideLimitReached`, retried like any failed batch. Default: the projection's
   * `maxSetAside`, else 20. 0: nothing is set aside (a refused event fails its batch).
   */
  maxSetAside?: number;
  /** Publish change notices after each batch; default: when the projection names a noticeContext. */
  notices?: boolean;
  /** After the commit, before notices and acks (tests use it to crash in that window). */
  afterCommit?: (batch: CommittedBatch) => void | Promise<void>;
  /**
   * Failures the runner recovers from (it retries), and each event it set aside: an
   * `EventSetAside` (naming projection, stream, version, type, SQLSTATE) with where `"set aside"`.
   */
  onError?: (err: unknown, where: string) => void;
  /** Another runner of this projection is active: this one waits as a standby. */
  onWaiting?: () => void;
  /**
   * How long applied event ids stay in the inbox; default 7 days. Copies of older events
   * re-published later would be applied again: repair re-publishes beyond this horizon
   * must be followed by a rebuild.
   */
  inboxRetentionMs?: number;
  /** How often the runner prunes the inbox between batches; default 10 min. */
  inboxPruneIntervalMs?: number;
}

export const DEFAULT_INBOX_RETENTION_MS = 7 * 24 * 3600_000;
const DEFAULT_INBOX_PRUNE_INTERVAL_MS = 10 * 60_000;
const DEFAULT_LINGER_MS = 5;

export interface CommittedBatch extends BatchResult {
  messages: number;
}

export interface RunnerCounters {
  batches: number;
  messages: number;
  applied: number;
  skippedBySequence: number;
  skippedDuplicates: number;
  deferred: number;
  released: number;
  malformed: number;
  /** Events PostgreSQL refused to store, recorded in `_set_aside` and passed over. */
  setAside: number;
  failedBatches: number;
  sessionRestarts: number;
  /** Times the runner lock was lost (its connection failed) and taken again. */
  lockRegains: number;
  /** Time spent in batch transactions (connect to commit), ms. */
  transactionMs: number;
  /** Inbox rows deleted by pruning. */
  inboxPruned: number;
}

interface Queued {
  m: JsMsg;
  /** performance.now() on arrival: how long it has waited for its batch. */
  at: number;
  /** Decoded on arrival: that overlaps with the batch transaction in flight. */
  entry: BatchEntry;
}

/**
 * The live runtime of one projection: one durable consumer per source context, and one loop
 * that takes whatever has arrived (up to `maxBatch`), applies it in one PostgreSQL
 * transaction (inbox, handlers, checkpoint), commits, publishes the batch's change notices,
 * then acks. A failed batch is never acked: the sessions restart at the checkpoint.
 */
export class ProjectionRunner {
  readonly counters: RunnerCounters = {
    batches: 0,
    messages: 0,
    applied: 0,
    skippedBySequence: 0,
    skippedDuplicates: 0,
    deferred: 0,
    released: 0,
    malformed: 0,
    setAside: 0,
    failedBatches: 0,
    sessionRestarts: 0,
    lockRegains: 0,
    transactionMs: 0,
    inboxPruned: 0,
  };
  private nextPruneAt = 0;
  private schema = "";
  private queue: Queued[] = [];
  private generation = 0;
  private sessions: SourceSession[] = [];
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private restartWanted = false;
  /** Per source, the checkpoint this runner last read or committed (see CheckpointBehind). */
  private committed = new Map<string, number>();
  private lockLost = false;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly lingerEvents: number;
  private readonly maxSetAside: number;
  private fatal: unknown;
  private lock: RunnerLock | undefined;

  constructor(private readonly o: ProjectionRunnerOptions) {
    this.maxBatch = o.maxBatch ?? 1000;
    this.lingerMs = o.lingerMs ?? DEFAULT_LINGER_MS;
    this.lingerEvents = Math.min(o.lingerEvents ?? 100, this.maxBatch);
    this.maxSetAside = setAsideLimit(o.projection, o.maxSetAside);
  }

  get liveSchema(): string {
    return this.schema;
  }

  /** Set when the runner stopped itself (its version was superseded by a rebuild). */
  get stoppedBecause(): unknown {
    return this.fatal;
  }

  /**
   * Creates the live read model if needed, then waits until this is the projection's only
   * runner (a standby otherwise), then consumes. Resolves once consuming (or stopped).
   */
  async start(): Promise<this> {
    this.schema = await ensureLiveSchema(this.o.pool, this.o.projection);
    this.lock = new RunnerLock(this.o.pool, this.schema);
    // A lost lock (database restarted, connection cut) stops consuming at once; the loop
    // then waits for the lock again, as a standby would, and resumes at the checkpoint.
    this.lock.onLost = () => {
      this.o.onError?.(new Error(`lost the runner lock of ${this.schema}`), "runner lock");
      this.lockLost = true;
      this.generation++;
      this.queue = [];
      this.wake?.();
    };
    const held = await this.lock.acquire(this.stopping.signal, () => this.o.onWaiting?.());
    if (!held) return this;
    try {
      await this.openSessions();
    } catch (err) {
      // Not started: let go of what this start took. The lock's connection kept, every later
      // runner of the projection (a standby, this service started again) waited for ever,
      // and the sessions that did open pulled into a queue nobody took from.
      await this.closeSessions().catch(() => {});
      await this.lock.release();
      throw err;
    }
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
    await this.closeSessions();
    await this.lock?.release();
  }

  private async openSessions(): Promise<void> {
    const { nc, names, projection } = this.o;
    const generation = ++this.generation;
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const checkpoints = await readCheckpoints(this.o.pool, this.schema);
    this.committed = new Map(checkpoints);
    const sink = {
      push: (m: JsMsg, sequence: number, source: string, gen: number) => {
        if (gen !== this.generation) return;
        this.queue.push({ m, entry: toEntry(m, source, sequence), at: performance.now() });
        this.wake?.();
      },
      ended: (source: string, gen: number, err?: unknown) => {
        if (gen !== this.generation) return;
        if (err) this.o.onError?.(err, `source ${source}`);
        this.restartWanted = true;
        this.wake?.();
      },
    };
    const sessions = projection.sources.map(
      (s) =>
        new SourceSession(
          js,
          jsm,
          s.context,
          {
            stream: names.contextStream(s.context).name,
            durable: liveDurable(names, projection, s.context),
            filter: sourceFilter(names, s.context),
            ackWaitMs: this.o.ackWaitMs ?? 30_000,
            maxAckPending: this.maxBatch * 4,
          },
          generation,
          sink,
          Math.min(this.maxBatch, 1000),
        ),
    );
    this.sessions = sessions;
    await Promise.all(sessions.map((s) => s.start(checkpoints.get(s.source) ?? 0)));
  }

  private async closeSessions(): Promise<void> {
    const old = this.sessions;
    this.sessions = [];
    this.generation++;
    this.queue = [];
    await Promise.all(old.map((s) => s.close()));
  }

  private async restartSessions(): Promise<void> {
    this.counters.sessionRestarts++;
    this.restartWanted = false;
    await this.closeSessions();
    await this.openSessions();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (this.lockLost) {
        await this.regainLock();
        continue;
      }
      if (this.queue.length === 0 && !this.restartWanted) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      try {
        if (this.restartWanted) {
          await this.restartSessions();
          failures = 0;
          continue;
        }
        if (this.lingerMs > 0) {
          await this.linger();
          // Stopping, a lost lock or a restart are handled at the top of the loop.
          if (this.queue.length === 0 || signal.aborted || this.lockLost || this.restartWanted) {
            continue;
          }
        }
        const batch = this.queue.splice(0, this.maxBatch);
        await this.process(batch);
        failures = 0;
        await this.pruneWhenDue();
      } catch (err) {
        if (err instanceof ProjectionVersionSuperseded) {
          this.fatal = err;
          this.o.onError?.(err, "batch");
          this.stopping.abort();
          break;
        }
        this.counters.failedBatches++;
        this.o.onError?.(err, "batch");
        failures++;
        // Nothing of the failed batch was acked: start again at the checkpoint, in order.
        this.restartWanted = true;
        await sleep(Math.min(100 * 2 ** Math.min(failures, 5), 3000), undefined, {
          signal,
        }).catch(() => {});
      }
    }
  }

  /**
   * After the lock's connection failed: drop the sessions (nothing unacked is lost, it is
   * redelivered), take the lock again — waiting while the database is down or another
   * runner took over — and consume from the checkpoint.
   */
  private async regainLock(): Promise<void> {
    const signal = this.stopping.signal;
    this.lockLost = false;
    await this.closeSessions().catch((err) => this.o.onError?.(err, "runner lock"));
    const lock = this.lock as RunnerLock;
    let failures = 0;
    while (!signal.aborted && !lock.held) {
      try {
        if (!(await lock.acquire(signal, () => this.o.onWaiting?.()))) return;
      } catch (err) {
        this.o.onError?.(err, "runner lock");
        failures++;
        await sleep(Math.min(100 * 2 ** Math.min(failures, 5), 3000), undefined, {
          signal,
        }).catch(() => {});
      }
    }
    if (signal.aborted) return;
    this.counters.lockRegains++;
    // Sessions are opened by the loop's restart path, which retries while NATS is away.
    this.restartWanted = true;
  }

  /**
   * Lets a batch fill: waits while fewer than `lingerEvents` are queued and the oldest of them
   * has waited less than `lingerMs`. Events that queued up during the previous batch have
   * waited already and start at once; only a lone trickle waits, and never longer than that.
   */
  private async linger(): Promise<void> {
    const signal = this.stopping.signal;
    for (;;) {
      const first = this.queue[0];
      if (!first || this.queue.length >= this.lingerEvents) return;
      if (signal.aborted || this.restartWanted || this.lockLost) return;
      const left = first.at + this.lingerMs - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One chunk per batch while old rows remain, then nothing until the next interval. */
  private async pruneWhenDue(): Promise<void> {
    if (Date.now() < this.nextPruneAt) return;
    try {
      const deleted = await pruneInbox(
        this.o.pool,
        this.schema,
        this.o.inboxRetentionMs ?? DEFAULT_INBOX_RETENTION_MS,
      );
      this.counters.inboxPruned += deleted;
      if (deleted < PRUNE_CHUNK) {
        this.nextPruneAt =
          Date.now() + (this.o.inboxPruneIntervalMs ?? DEFAULT_INBOX_PRUNE_INTERVAL_MS);
      }
    } catch (err) {
      // Pruning is housekeeping: a failure must not stop the read model; try again later.
      this.o.onError?.(err, "inbox pruning");
      this.nextPruneAt = Date.now() + 60_000;
    }
  }

  private async process(batch: Queued[]): Promise<void> {
    const entries = batch.map((q) => q.entry);
    const t0 = performance.now();
    let result: BatchResult;
    // Set when isolating a bad event failed otherwise after some parts committed: those
    // are counted and noticed below, then the batch fails (its redelivery skips them).
    let failure: { err: unknown } | undefined;
    try {
      result = await this.applyPart(entries);
    } catch (err) {
      // Only a data exception (a property of one event) is worth splitting the batch for;
      // anything else fails the batch, which is retried from the checkpoint. With
      // maxSetAside 0 nothing would be set aside: the batch fails whole.
      if (!eventDataError(err) || this.maxSetAside === 0) throw err;
      const parts: BatchResult[] = [];
      await this.isolate(entries, err, parts).catch((e: unknown) => {
        failure = { err: e };
      });
      result = merged(parts);
    }
    const c = this.counters;
    c.transactionMs += performance.now() - t0;
    if (!failure) {
      c.batches++;
      c.messages += batch.length;
    }
    c.applied += result.applied;
    c.skippedBySequence += result.skippedBySequence;
    c.skippedDuplicates += result.skippedDuplicates;
    c.deferred += result.deferred;
    c.released += result.released;
    c.malformed += result.malformed;
    c.setAside += result.setAside.length;
    for (const r of result.setAside) this.o.onError?.(new EventSetAside(r), "set aside");
    await this.o.afterCommit?.({ ...result, messages: batch.length });
    const { projection } = this.o;
    if (projection.noticeContext && this.o.notices !== false) {
      publishChangeNotices(
        this.o.nc,
        this.o.names,
        projection.noticeContext,
        projection.name,
        result.changed,
        result.checkpoints,
      );
    }
    if (failure) throw failure.err;
    // After the commit: a crash before these acks only causes redeliveries the checkpoint skips.
    for (const q of batch) q.m.ack();
  }

  /** `entries` in one transaction of their own (the batch's, or a part of it), committed. */
  private async applyPart(
    entries: readonly BatchEntry[],
    setAside?: ReadonlyMap<string, SetAsideReason>,
  ): Promise<BatchResult> {
    const client = await this.o.pool.connect();
    if (!guarded.has(client)) {
      // A checked-out pg client has no 'error' listener: a connection lost mid-batch (server
      // restart, terminated backend) was an uncaught exception. The batch's own statement
      // fails with it as well, and the batch is retried; the pool drops the dead client.
      guarded.add(client);
      client.on("error", (err) => this.o.onError?.(err, "batch connection"));
    }
    let result: BatchResult;
    try {
      result = await applyBatch(client, this.o.projection, this.schema, entries, {
        mode: "live",
        begin: true,
        commit: true,
        asyncCommit: this.o.synchronousCommit !== true,
        committed: this.committed,
        ...(setAside ? { setAside } : {}),
      });
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    for (const [source, seq] of result.checkpoints) this.committed.set(source, seq);
    return result;
  }

  /**
   * The batch failed with a data exception (rolled back, nothing of it committed): applies
   * it again in halves, each half in its own transaction, splitting a failing half again,
   * down to the one event PostgreSQL refuses, which is recorded in `_set_aside` (in its own
   * transaction, moving the checkpoint and claiming its id in the inbox) instead of applied.
   * Parts commit in stream order, each moving the checkpoint past itself, so a part is never
   * applied twice: if anything else fails meanwhile, the batch fails as usual and its
   * redelivery skips the committed parts by sequence.
   */
  private async isolate(
    entries: readonly BatchEntry[],
    failure: unknown,
    committed: BatchResult[],
  ): Promise<void> {
    if (entries.length === 1) {
      committed.push(await this.setAsideOne(entries, failure));
      return;
    }
    const mid = Math.ceil(entries.length / 2);
    for (const part of [entries.slice(0, mid), entries.slice(mid)]) {
      try {
        committed.push(await this.applyPart(part));
      } catch (err) {
        if (!eventDataError(err)) throw err;
        await this.isolate(part, err, committed);
      }
    }
  }

  /**
   * Throws SetAsideLimitReached when the read model holds `maxSetAside` set-aside events
   * already (counted now: rows an operator deleted no longer count) and `adding` more would
   * exceed it. Only ever asked when about to set one aside: a normal batch pays nothing.
   */
  private async withinSetAsideLimit(
    adding: number,
    event: SetAsideEvent,
    failure: unknown,
  ): Promise<void> {
    const held = await countSetAside(this.o.pool, this.schema);
    if (held + adding > this.maxSetAside) {
      throw new SetAsideLimitReached(
        this.o.projection.name,
        this.maxSetAside,
        held,
        event,
        failure,
      );
    }
  }

  /**
   * One entry that fails alone: sets aside the event whose handler threw (the entry's own, or
   * one it released from `_pending`; the entry's own when the failure came from `flush`),
   * and tries again; a released event may be next, each is set aside once at most. Not
   * beyond the limit (`withinSetAsideLimit`).
   */
  private async setAsideOne(entry: readonly BatchEntry[], failure: unknown): Promise<BatchResult> {
    const reasons = new Map<string, SetAsideReason>();
    let err = failure;
    for (;;) {
      const culprit = blamedEvent(err) ?? entry[0]?.event;
      const reason = eventDataError(err);
      if (!culprit || !reason || reasons.has(culprit.eventId)) throw err;
      reasons.set(culprit.eventId, reason);
      await this.withinSetAsideLimit(
        reasons.size,
        toSetAside(this.o.projection.name, culprit, reason),
        err,
      );
      try {
        return await this.applyPart(entry, reasons);
      } catch (next) {
        err = next;
      }
    }
  }
}

/** Pool clients given an 'error' listener (once each, for their life). */
const guarded = new WeakSet<object>();

/** The parts of an isolated batch as one result (what the counters, notices and hooks see). */
function merged(parts: readonly BatchResult[]): BatchResult {
  const out = emptyBatchResult();
  const changed = new Map<string, ChangedItem>();
  for (const p of parts) {
    out.applied += p.applied;
    out.skippedBySequence += p.skippedBySequence;
    out.skippedDuplicates += p.skippedDuplicates;
    out.deferred += p.deferred;
    out.released += p.released;
    out.malformed += p.malformed;
    out.setAside.push(...p.setAside);
    for (const c of p.changed) changed.set(`${c.kind}\u0000${c.id}`, c);
    for (const [source, seq] of p.checkpoints) {
      out.checkpoints.set(source, Math.max(out.checkpoints.get(source) ?? 0, seq));
    }
  }
  out.changed = [...changed.values()];
  return out;
}
