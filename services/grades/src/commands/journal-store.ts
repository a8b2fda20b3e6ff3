import {
  CommandIdReused,
  type EventMetadata,
  type EventStore,
  loadAggregate,
  type NewEvent,
  type SnapshotPolicy,
  STREAM_LOCK_CLASS,
  WrongExpectedVersion,
} from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import type pg from "pg";
import {
  evolveJournal,
  initialJournalState,
  type JournalState,
  journalFromSnapshot,
  journalToSnapshot,
} from "../domain/journal-state.js";
import { AppendBatcher, type AppendOutcome, type PendingAppend } from "./append-batcher.js";
import { type Note, notesNamedBy, writeNotes } from "./notes.js";
import { commandIdReused, replayOfRefused } from "./recorded-meanwhile.js";

interface Entry {
  state: JournalState;
  version: number;
}

const snapshots: SnapshotPolicy<JournalState> = {
  // 2: an excusal is kept through ILLNESS / EXCUSED records (evolveJournal): older snapshots
  // hold it dropped, so they are ignored and the journal replayed once.
  schemaVersion: 2,
  every: 500,
  toSnapshot: journalToSnapshot,
  fromSnapshot: journalFromSnapshot,
};

const OPTIMISTIC_ATTEMPTS = 3;

const decider = { initialState: initialJournalState, evolve: evolveJournal };

export interface JournalAppend<Result> {
  streamId: string;
  commandId: string;
  payload: unknown;
  /** Pure: the events of the command in this state (throws to refuse). */
  decide(state: JournalState): NewEvent[];
  result(state: JournalState, events: NewEvent[]): Result;
  metadata?: EventMetadata;
  /**
   * Free text the command may name (its notes): those its events name are written in the
   * transaction that appends them, after the append, only when the events were appended (not
   * on a refusal, a conflict or a replay); in the group commit like any other command.
   */
  notes?: Note[];
}

/**
 * Journals' decision states, kept in memory (least recently used out past `maxEntries`), so a
 * 5,000-event journal is neither replayed nor even read on each mark: a command decides on the
 * cached state and appends with its version as the expected version. Another writer (another
 * process, or a concurrent call here) makes that append fail with WrongExpectedVersion; the
 * entry then reads the events it missed and the command decides again — so no update is lost.
 * A cold journal loads from its snapshot (event store snapshots table) plus later events.
 */
export class JournalStore {
  private readonly entries = new Map<string, Entry>();
  private readonly queues = new Map<string, Promise<void>>();

  private readonly batcher: AppendBatcher;

  constructor(
    readonly store: EventStore,
    private readonly maxEntries = 1000,
  ) {
    this.batcher = new AppendBatcher(store);
  }

  /**
   * Commands on one journal run one at a time in this process (queued per stream), so they
   * never race each other for the expected version; only another process can make an append
   * conflict, and then this one catches up and decides again.
   */
  run<Result>(o: JournalAppend<Result>): Promise<{ result: Result; replayed: boolean }> {
    return this.exclusive(o.streamId, () => this.attempt(o));
  }

  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => mine);
    this.queues.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  private async attempt<Result>(
    o: JournalAppend<Result>,
  ): Promise<{ result: Result; replayed: boolean }> {
    // Optimistic first: decide on the cached state, append with its version.
    for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
      const outcome = await this.decideAndAppend(o);
      if (outcome) return outcome;
      await this.catchUp(o.streamId);
    }
    // Another process keeps winning the race (a hot journal written from two places): hold the
    // stream's own append lock while catching up, deciding and appending, so it must wait.
    return this.lockedTransaction(o);
  }

  /** One decide + append on the current entry; undefined when another writer got in first. */
  private async decideAndAppend<Result>(
    o: JournalAppend<Result>,
    client?: pg.PoolClient,
  ): Promise<{ result: Result; replayed: boolean } | undefined> {
    const entry = await this.current(o.streamId);
    const expected = entry.version;
    let decided: NewEvent[];
    try {
      decided = o.decide(entry.state);
    } catch (err) {
      // Refused, perhaps on what this command's own first run wrote since its record was
      // looked for: a retry then gets that run's answer.
      const replay = await replayOfRefused(this.store, o, err);
      return { result: replay.result as Result, replayed: true };
    }
    const events = o.metadata
      ? decided.map((e) => ({ ...e, metadata: { ...o.metadata, ...e.metadata } }))
      : decided;
    const result = o.result(entry.state, events);
    const notes = notesNamedBy(o.notes ?? [], events);
    const item = {
      commandId: o.commandId,
      payload: o.payload,
      result,
      streamId: o.streamId,
      expected,
      events,
      ...(notes.length > 0 ? { notes } : {}),
    };
    let outcome: AppendOutcome;
    try {
      outcome = client ? await this.inTransaction(item, client) : await this.batcher.submit(item);
    } catch (err) {
      if (err instanceof CommandIdReused) throw commandIdReused();
      throw err;
    }
    if (outcome.kind === "conflict") return undefined;
    if (outcome.kind === "replayed") return { result: outcome.result as Result, replayed: true };
    // In the caller's transaction (the batcher writes its own): before the cache moves on, so
    // if this fails, the transaction rolls back with nothing applied.
    if (client) await writeNotes(client, notes);
    const now = this.entries.get(o.streamId);
    // Still at the version we decided on: our events are the next ones.
    if (now === entry && entry.version === expected) {
      for (const e of events) evolveJournal(entry.state, e);
      entry.version = expected + events.length;
    }
    return { result, replayed: false };
  }

  private async inTransaction(item: PendingAppend, client: pg.PoolClient): Promise<AppendOutcome> {
    try {
      const o = await this.store.appendCommand(
        { commandId: item.commandId, payload: item.payload, result: item.result },
        [{ streamId: item.streamId, expected: item.expected, events: item.events }],
        { client },
      );
      return o.replayed ? { kind: "replayed", result: o.result } : { kind: "appended" };
    } catch (err) {
      if (err instanceof WrongExpectedVersion) return { kind: "conflict" };
      throw err;
    }
  }

  /**
   * Decide and append in a transaction of its own, under the stream's append lock, caught up
   * first, with the command's notes; refused as a conflict only if it still loses.
   */
  private async lockedTransaction<Result>(
    o: JournalAppend<Result>,
  ): Promise<{ result: Result; replayed: boolean }> {
    const client = await this.store.pool.connect();
    try {
      let outcome: { result: Result; replayed: boolean } | undefined;
      try {
        await client.query("BEGIN");
        // The lock every append of this stream takes first (it assigns no transaction id,
        // so the append below is still the transaction's first write).
        await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
          STREAM_LOCK_CLASS,
          o.streamId,
        ]);
        await this.catchUp(o.streamId);
        outcome = await this.decideAndAppend(o, client);
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      }
      if (!outcome || outcome.replayed) {
        await client.query("ROLLBACK");
        if (outcome) return outcome;
        throw new DomainError(
          "conflict",
          `command ${o.commandId}: journal ${o.streamId} changed concurrently; retry it`,
        );
      }
      try {
        await client.query("COMMIT");
      } catch (err) {
        // The cached state already holds the events: forget it, the next command reloads.
        this.entries.delete(o.streamId);
        throw err;
      }
      return outcome;
    } finally {
      client.release();
    }
  }

  /** The journal's state as of now (reads what the cache missed); for queries. */
  async read(streamId: string): Promise<JournalState> {
    await this.catchUp(streamId);
    return (await this.current(streamId)).state;
  }

  private async current(streamId: string): Promise<Entry> {
    const hit = this.entries.get(streamId);
    if (hit) {
      // Most recently used last.
      this.entries.delete(streamId);
      this.entries.set(streamId, hit);
      return hit;
    }
    const loaded = await loadAggregate(this.store, streamId, decider, snapshots);
    const raced = this.entries.get(streamId);
    if (raced) return raced;
    const entry = { state: loaded.state, version: loaded.version };
    this.entries.set(streamId, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry;
  }

  private async catchUp(streamId: string): Promise<void> {
    const entry = this.entries.get(streamId);
    if (!entry) return;
    for (;;) {
      const events = await this.store.readStream(streamId, {
        fromVersion: entry.version + 1,
        limit: 1000,
      });
      // Another call may have applied some meanwhile: apply only the next versions.
      for (const e of events) {
        if (e.version !== entry.version + 1) continue;
        evolveJournal(entry.state, e);
        entry.version = e.version;
      }
      if (events.length < 1000) return;
    }
  }
}
