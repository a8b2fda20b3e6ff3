import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import {
  appendTogether,
  appendTogetherWith,
  type BatchAlsoWrite,
  batchable,
  type CommandAppend,
} from "./append-commands.js";
import { type AppendParams, toAppendParams } from "./append-params.js";
import { appendBulk, type BulkAppendOptions, type BulkAppendResult } from "./bulk-append.js";
import { type Checkpoint, makeCheckpoint, parseCheckpoint, START } from "./checkpoint.js";
import { type AppendResultJson, COPY_APPEND_MIN_EVENTS, copyAppend } from "./copy-append.js";
import {
  AppendNotFirstWrite,
  CommandIdReused,
  InvalidEventStoreArgument,
  WrongExpectedVersion,
} from "./errors.js";
import type { NewEvent, RecordedEvent, StreamAppend, StreamVersion } from "./event-types.js";
import { appendCommandExact, insertExact } from "./exact-append.js";
import { describeExpectedVersion, type ExpectedVersion, NO_STREAM } from "./expected-version.js";
import { parseInt8 } from "./int8.js";
import { inOwnTransaction } from "./own-transaction.js";
import { payloadHash } from "./payload-hash.js";
import { createEventStorePool, type EventStorePoolOptions } from "./pool.js";
import { EVENT_COLUMNS, type EventRow, toRecordedEvent } from "./recorded-event-row.js";
import type { Upcasters } from "./upcasters.js";

/** Something to run queries on: the store's pool, or a client inside the caller's transaction. */
export type Queryable = Pick<pg.ClientBase, "query">;

export interface AppendOptions {
  /**
   * Run inside the caller's open transaction on this client (READ COMMITTED). The append must
   * be that transaction's first write (else AppendNotFirstWrite).
   */
  client?: Queryable;
}

export interface CommandAppendOptions extends AppendOptions {
  /**
   * More writes in the append's own transaction, after its events (a table kept with them);
   * not run when the command is replayed or a version conflicts, and what it throws rolls
   * the append back. Large appends keep the COPY path. Not with `client` (write there).
   */
  alsoWrite?: (client: pg.PoolClient) => Promise<void>;
}

export interface CommandsAppendOptions {
  /**
   * More writes in the transaction that appends commands, after their events (rows kept with
   * them), called with the indexes (into the batch) of the commands that transaction appended:
   * every one when the batch goes as one, else one command each time one is appended alone.
   * Never for a replayed, refused or conflicting command. What it throws rolls its transaction
   * back; a batch's throw sends each command alone (each with its own call), so only commands
   * whose own write fails are refused. Without it the batch stays one statement, no BEGIN.
   */
  alsoWrite?: BatchAlsoWrite;
}

export interface CommandRecord {
  commandId: string;
  /** The command's payload; its canonical JSON's sha256 is stored and compared on retry. */
  payload: unknown;
  /** Stored with the command and returned to every retry. Must be JSON. */
  result: unknown;
}

export type CommandAppendOutcome =
  | { replayed: false; result: unknown; streams: StreamVersion[] }
  | { replayed: true; result: unknown };

export interface StoredCommand {
  commandId: string;
  payloadHash: string;
  result: unknown;
  recordedAt: Date;
}

export interface ReadAllPage {
  events: RecordedEvent[];
  /** Pass to the next readAll; equal to the argument when no event was ready. */
  checkpoint: Checkpoint;
}

export interface TailOptions {
  after?: Checkpoint;
  batchSize?: number;
  /** Wait between polls once caught up (ms, default 50). */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

export interface EventStoreOptions {
  pool: pg.Pool;
  upcasters?: Upcasters;
  /** Whether close() ends the pool (true when the store created it). */
  ownsPool?: boolean;
}

const APPEND_SQL =
  "SELECT eventstore.append_events($1::text[], $2::bigint[], $3::int[], $4::uuid[], $5::text[], " +
  "$6::int[], $7::jsonb[], $8::jsonb[], $9::text, $10::text, $11::jsonb) AS r";

const APPEND_STREAM_SQL =
  "SELECT eventstore.append_stream($1::text, $2::bigint, $3::uuid[], $4::text[], $5::int[], " +
  "$6::jsonb[], $7::jsonb[]) AS v";

/*
 * How far the log is final: the oldest transaction still in progress in the statement's
 * snapshot that could write this database's log (else the snapshot's xmax). The snapshot's
 * xmin would do, but it is cluster-wide: every write transaction in any other database of
 * the server (a projection's batch, a rebuild, another service's tests) held every relay
 * back for as long as it ran. Only transactions seen running in a backend of another
 * database are left out (a backend never changes database; the low 32 bits of an xid8 are
 * its xid); one that ended meanwhile, a prepared one, or one whose backend is not visible
 * counts, as before. An InitPlan, evaluated once per query; it bounds the index scan.
 * Exported as a SQL expression (xid8) for checks that must use readAll's own bound.
 */
export const READ_ALL_FINAL_BELOW_SQL = `(SELECT coalesce(
      (SELECT min(x) FROM pg_snapshot_xip(s) AS x
        WHERE x::text::bigint % 4294967296 NOT IN (
          SELECT a.backend_xid::text::bigint FROM pg_stat_get_activity(NULL) AS a
           WHERE a.backend_xid IS NOT NULL
             AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
      pg_snapshot_xmax(s))
    FROM pg_current_snapshot() AS s)`;

export const READ_ALL_SQL = `SELECT ${EVENT_COLUMNS} FROM eventstore.events e
  WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
    AND e.transaction_id < ${READ_ALL_FINAL_BELOW_SQL}
  ORDER BY e.transaction_id, e.position
  LIMIT $3`;

const READ_STREAM_SQL = `SELECT ${EVENT_COLUMNS} FROM eventstore.events e
  WHERE e.stream_id = $1 AND e.stream_version >= $2
  ORDER BY e.stream_version
  LIMIT $3`;

/**
 * The event store of one service database. Writes go through eventstore.append_events (one
 * round trip); readAll delivers the log in commit-safe order (see README, "Ordering").
 */
export class EventStore {
  readonly pool: pg.Pool;
  private readonly upcasters: Upcasters | undefined;
  private readonly ownsPool: boolean;

  constructor(options: EventStoreOptions) {
    this.pool = options.pool;
    this.upcasters = options.upcasters;
    this.ownsPool = options.ownsPool ?? false;
  }

  /** A store with its own pool (closed by close()). */
  static connect(options: EventStorePoolOptions & { upcasters?: Upcasters }): EventStore {
    return new EventStore({
      pool: createEventStorePool(options),
      ownsPool: true,
      ...(options.upcasters ? { upcasters: options.upcasters } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  private readonly appendedListeners = new Set<() => void>();

  /**
   * Calls `listener` after each append made through this store (in this process) returns —
   * committed, or written in the caller's transaction (`options.client`) that commits later.
   * The outbox relay wakes on it instead of polling its log every few milliseconds. Returns
   * the unsubscribe.
   */
  onAppended(listener: () => void): () => void {
    this.appendedListeners.add(listener);
    return () => this.appendedListeners.delete(listener);
  }

  private appended<T>(result: T): T {
    for (const l of this.appendedListeners) l();
    return result;
  }

  /** Appends events to one stream if it is at `expected`; returns its new version. */
  async append(
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<StreamVersion> {
    const [one] = await this.appendMany([{ streamId, expected, events }], options);
    return one!;
  }

  /** Appends to several streams atomically: all expected versions hold and all is written, or nothing. */
  async appendMany(
    appends: readonly StreamAppend[],
    options: AppendOptions = {},
  ): Promise<StreamVersion[]> {
    const only = appends.length === 1 ? appends[0]! : undefined;
    if (only) return this.appended([await this.appendStream(only, options)]);
    const r = await this.callAppend(appends, undefined, options);
    return this.appended(this.interpret(appends, r, undefined) as StreamVersion[]);
  }

  /**
   * Appends a command's events together with its id, payload hash and result, in one
   * transaction. A command id already recorded with the same payload returns the stored
   * result and writes nothing; with another payload, CommandIdReused.
   */
  async appendCommand(
    command: CommandRecord,
    appends: readonly StreamAppend[],
    options: CommandAppendOptions = {},
  ): Promise<CommandAppendOutcome> {
    if (typeof command.commandId !== "string" || command.commandId.length === 0) {
      throw new InvalidEventStoreArgument("commandId", "must be a non-empty string");
    }
    if (options.alsoWrite && options.client) {
      throw new InvalidEventStoreArgument("alsoWrite", "cannot be used with client");
    }
    const hash = payloadHash(command.payload);
    const r = options.alsoWrite
      ? await this.callAppendWith(appends, { ...command, hash }, options.alsoWrite)
      : await this.callAppend(appends, { ...command, hash }, options);
    const streams = this.interpret(appends, r, { commandId: command.commandId, hash });
    if (r.command) return { replayed: true, result: r.command.result };
    return this.appended({
      replayed: false,
      result: command.result,
      streams: streams as StreamVersion[],
    });
  }

  /**
   * Several commands, each answered as appendCommand would answer it alone (in order). Tried
   * first as one transaction and one commit (group commit for concurrent commands on
   * different streams); if a stream moved, a command id was recorded already or an argument
   * is refused, that transaction writes nothing and each command is appended on its own.
   * Commands sharing a stream or a command id go on their own at once. `alsoWrite` adds
   * writes to whichever transaction appends a command (options above).
   */
  async appendCommands(
    items: readonly CommandAppend[],
    options: CommandsAppendOptions = {},
  ): Promise<PromiseSettledResult<CommandAppendOutcome>[]> {
    const { alsoWrite } = options;
    const alone = () =>
      Promise.allSettled(
        items.map((i, k) =>
          this.appendCommand(
            i.command,
            i.appends,
            alsoWrite ? { alsoWrite: (client) => alsoWrite(client, [k]) } : {},
          ),
        ),
      );
    if (items.length < 2 || !batchable(items)) return alone();
    let together: StreamVersion[][] | undefined;
    try {
      together = alsoWrite
        ? await appendTogetherWith(this.pool, items, alsoWrite)
        : await appendTogether(this.pool, items);
    } catch (err) {
      return items.map(() => ({ status: "rejected", reason: err }));
    }
    if (!together) return alone();
    this.appended(undefined);
    return items.map((i, k) => ({
      status: "fulfilled",
      value: { replayed: false, result: i.command.result, streams: together[k]! },
    }));
  }

  /** The stored command of this id, if any. */
  async findCommand(commandId: string): Promise<StoredCommand | undefined> {
    const { rows } = await this.pool.query<{
      payload_hash: string;
      result: unknown;
      recorded_at: Date;
    }>({
      name: "eventstore_find_command",
      text: "SELECT payload_hash, result, recorded_at FROM eventstore.commands WHERE command_id = $1",
      values: [commandId],
    });
    const row = rows[0];
    return row
      ? {
          commandId,
          payloadHash: row.payload_hash,
          result: row.result,
          recordedAt: row.recorded_at,
        }
      : undefined;
  }

  /** Import path: many streams, committed in chunks, COPY into the log (see bulk-append.ts). */
  appendBulk(
    appends: readonly StreamAppend[],
    options: BulkAppendOptions = {},
  ): Promise<BulkAppendResult> {
    return appendBulk(this.pool, appends, options).then((r) => this.appended(r));
  }

  /** A stream's events from `fromVersion` (default 1), in version order. */
  async readStream(
    streamId: string,
    options: { fromVersion?: number; limit?: number } = {},
  ): Promise<RecordedEvent[]> {
    const fromVersion = options.fromVersion ?? 1;
    if (!Number.isSafeInteger(fromVersion) || fromVersion < 1) {
      throw new InvalidEventStoreArgument(
        "fromVersion",
        `must be an integer >= 1, got ${fromVersion}`,
      );
    }
    const { rows } = await this.pool.query<EventRow>({
      name: "eventstore_read_stream",
      text: READ_STREAM_SQL,
      values: [streamId, fromVersion, options.limit ?? null],
    });
    return rows.map((row) => toRecordedEvent(row, this.upcasters));
  }

  /** The stream's current version; 0 when it has no events. */
  async streamVersion(streamId: string): Promise<number> {
    const { rows } = await this.pool.query<{ version: string }>({
      name: "eventstore_stream_version",
      text: "SELECT coalesce(max(stream_version), 0) AS version FROM eventstore.events WHERE stream_id = $1",
      values: [streamId],
    });
    return parseInt8(rows[0]!.version, "stream version");
  }

  /**
   * Up to `limit` events after `after`, in log order: by writing transaction, then position,
   * and only from transactions older than every transaction still open. An event a slow
   * transaction commits later therefore sorts after anything already delivered.
   */
  async readAll(after: Checkpoint = START, limit = 1000): Promise<ReadAllPage> {
    const from = parseCheckpoint(after, "after");
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidEventStoreArgument("limit", `must be an integer >= 1, got ${limit}`);
    }
    const { rows } = await this.pool.query<EventRow>({
      name: "eventstore_read_all",
      text: READ_ALL_SQL,
      values: [from.transactionId, from.position, limit],
    });
    const events = rows.map((row) => toRecordedEvent(row, this.upcasters));
    const last = events.at(-1);
    return {
      events,
      checkpoint: last ? makeCheckpoint(last.transactionId, last.position) : after,
    };
  }

  /** Every event after `after`, then new ones as they become readable, until `signal` aborts. */
  async *tail(options: TailOptions = {}): AsyncGenerator<RecordedEvent> {
    const batchSize = options.batchSize ?? 500;
    const pollIntervalMs = options.pollIntervalMs ?? 50;
    let checkpoint = options.after ?? START;
    while (!options.signal?.aborted) {
      const page = await this.readAll(checkpoint, batchSize);
      for (const event of page.events) yield event;
      checkpoint = page.checkpoint;
      if (page.events.length < batchSize) {
        await sleep(pollIntervalMs, undefined, { signal: options.signal }).catch(() => {});
      }
    }
  }

  /** One stream, no command: a plain INSERT at an exact version, else eventstore.append_stream. */
  private async appendStream(a: StreamAppend, options: AppendOptions): Promise<StreamVersion> {
    const p = toAppendParams([a]);
    const exact = exactVersion(p, options);
    if (exact !== undefined) return this.appendExact(a, p, exact);
    const target = options.client ?? this.pool;
    let raw: string;
    try {
      const { rows } = await target.query<{ v: string }>({
        name: "eventstore_append_stream",
        text: APPEND_STREAM_SQL,
        values: [
          p.streamIds[0],
          p.expected[0],
          p.eventIds,
          p.types,
          p.schemaVersions,
          p.data,
          p.metadata,
        ],
      });
      raw = rows[0]!.v;
    } catch (err) {
      if ((err as { code?: string }).code === "OTE01") throw new AppendNotFirstWrite();
      throw err;
    }
    const v = parseInt8(raw, "streams.version");
    if (v < 0) {
      throw new WrongExpectedVersion(a.streamId, describeExpectedVersion(a.expected), -1 - v);
    }
    return { streamId: a.streamId, version: v };
  }

  private async appendExact(
    a: StreamAppend,
    p: AppendParams,
    expected: number,
  ): Promise<StreamVersion> {
    if (await insertExact(this.pool, p, expected)) {
      return { streamId: a.streamId, version: expected + p.eventIds.length };
    }
    // Version `expected` is not there yet, or another writer took the next one.
    throw new WrongExpectedVersion(
      a.streamId,
      describeExpectedVersion(a.expected),
      await this.streamVersion(a.streamId),
    );
  }

  /** callAppend with `alsoWrite` after the events, in the same transaction. */
  private async callAppendWith(
    appends: readonly StreamAppend[],
    command: CommandRecord & { hash: string },
    alsoWrite: (client: pg.PoolClient) => Promise<void>,
  ): Promise<AppendResultJson> {
    if (eventCount(appends) >= COPY_APPEND_MIN_EVENTS) {
      return copyAppend(this.pool, appends, commandRow(command), alsoWrite);
    }
    return inOwnTransaction(this.pool, async (client) => {
      const r = await this.callAppend(appends, command, { client });
      if (r.versions) await alsoWrite(client);
      return r;
    });
  }

  private async callAppend(
    appends: readonly StreamAppend[],
    command: (CommandRecord & { hash: string }) | undefined,
    options: AppendOptions,
  ): Promise<AppendResultJson> {
    if (!options.client && eventCount(appends) >= COPY_APPEND_MIN_EVENTS) {
      return copyAppend(this.pool, appends, command && commandRow(command));
    }
    const p = toAppendParams(appends);
    const exact = command && appends.length === 1 ? exactVersion(p, options) : undefined;
    if (command && exact !== undefined) return appendCommandExact(this.pool, p, exact, command);
    const target = options.client ?? this.pool;
    try {
      const { rows } = await target.query<{ r: AppendResultJson }>({
        name: "eventstore_append_events",
        text: APPEND_SQL,
        values: [
          p.streamIds,
          p.expected,
          p.eventStreams,
          p.eventIds,
          p.types,
          p.schemaVersions,
          p.data,
          p.metadata,
          command?.commandId ?? null,
          command?.hash ?? null,
          command ? JSON.stringify(command.result ?? null) : null,
        ],
      });
      return rows[0]!.r;
    } catch (err) {
      if ((err as { code?: string }).code === "OTE01") throw new AppendNotFirstWrite();
      throw err;
    }
  }

  private interpret(
    appends: readonly StreamAppend[],
    r: AppendResultJson,
    command: { commandId: string; hash: string } | undefined,
  ): StreamVersion[] | undefined {
    if (r.conflict) {
      const a = appends[r.conflict.index]!;
      throw new WrongExpectedVersion(
        a.streamId,
        describeExpectedVersion(a.expected),
        parseInt8(r.conflict.actual, "streams.version"),
      );
    }
    if (r.command) {
      if (command && r.command.hash !== command.hash) {
        throw new CommandIdReused(command.commandId, r.command.hash, command.hash);
      }
      return undefined;
    }
    return (r.versions ?? []).map((v, i) => ({
      streamId: appends[i]!.streamId,
      version: parseInt8(v, "streams.version"),
    }));
  }
}

const eventCount = (appends: readonly StreamAppend[]) =>
  appends.reduce((n, a) => n + a.events.length, 0);

const commandRow = (c: CommandRecord & { hash: string }) => ({
  commandId: c.commandId,
  hash: c.hash,
  result: c.result,
});

/**
 * The version a one-stream append can take the plain-statement path at (exact-append.ts), or
 * undefined: inside a caller's transaction the function's checks (first write, locks) still
 * apply, and "any", "stream_exists" and no events need the function's answers.
 */
function exactVersion(p: AppendParams, options: AppendOptions): number | undefined {
  const expected = p.expected[0]!;
  if (options.client || p.eventIds.length === 0) return undefined;
  if (expected >= 0) return expected;
  return expected === NO_STREAM ? 0 : undefined;
}
