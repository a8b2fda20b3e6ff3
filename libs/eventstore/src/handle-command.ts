import { recordedAnswer, replayOrRethrow } from "./command-replay.js";
import { ConcurrencyRetriesExhausted, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import type { EventMetadata, NewEvent, RecordedEvent } from "./event-types.js";
import { loadSnapshot, type SnapshotPolicy, saveSnapshot } from "./snapshots.js";

/** The decider shape: pure functions, no I/O. */
export interface Decider<State, Command> {
  initialState(): State;
  evolve(state: State, event: RecordedEvent): State;
  /** Events that carry out `command` in `state`; throws a domain error to refuse it. */
  decide(command: Command, state: State): NewEvent[];
}

export interface HandleCommandOptions<State, Command, Result> {
  streamId: string;
  command: Command;
  decider: Decider<State, Command>;
  /** Makes the command idempotent: a retry with this id returns the stored result. */
  commandId?: string;
  /** What the command id must always mean; defaults to `command`. */
  payload?: unknown;
  /** The result stored with the command and returned; default `{ streamId, version }`. */
  result?: (outcome: { state: State; events: NewEvent[]; version: number }) => Result;
  /** Metadata added to every event (correlation, causation, actor, trace context). */
  metadata?: EventMetadata;
  /** Loads (load, decide, append) before giving up on version conflicts; default 5. */
  maxAttempts?: number;
  snapshots?: SnapshotPolicy<State>;
}

export interface HandleCommandResult<Result> {
  result: Result;
  /** True when the command id was already recorded and nothing was written. */
  replayed: boolean;
  /** Load-decide-append rounds used (0 when replayed from a first lookup). */
  attempts: number;
}

export interface LoadedAggregate<State> {
  state: State;
  version: number;
}

/** State of a stream: from its snapshot when there is a usable one, then its later events. */
export async function loadAggregate<State>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<State, unknown>, "initialState" | "evolve">,
  snapshots?: SnapshotPolicy<State>,
): Promise<LoadedAggregate<State>> {
  let state = decider.initialState();
  let version = 0;
  if (snapshots) {
    const snap = await loadSnapshot(store.pool, streamId);
    if (snap && snap.schemaVersion === snapshots.schemaVersion) {
      state = snapshots.fromSnapshot(snap.state);
      version = snap.version;
    }
  }
  const snapshotVersion = version;
  const page = 1000;
  for (;;) {
    const events = await store.readStream(streamId, { fromVersion: version + 1, limit: page });
    for (const e of events) {
      state = decider.evolve(state, e);
      version = e.version;
    }
    if (events.length < page) break;
  }
  if (snapshots && version - snapshotVersion >= snapshots.every) {
    // Best effort: a lost snapshot only makes the next load read more events.
    await saveSnapshot(store.pool, streamId, {
      version,
      schemaVersion: snapshots.schemaVersion,
      state: snapshots.toSnapshot(state),
    }).catch(() => {});
  }
  return { state, version };
}

/**
 * Load -> decide -> append with the loaded version as expected version; on a conflict, load
 * and decide again, up to `maxAttempts` times, then ConcurrencyRetriesExhausted. With a
 * `commandId`, the command's result is stored in the same transaction as its events.
 */
export async function handleCommand<State, Command, Result = { streamId: string; version: number }>(
  store: EventStore,
  options: HandleCommandOptions<State, Command, Result>,
): Promise<HandleCommandResult<Result>> {
  const { streamId, decider, command } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const payload = options.payload ?? command;
  const { commandId } = options;
  if (commandId !== undefined) {
    // Cheap path for a plain retry; the append re-checks under the stream lock anyway.
    const recorded = await recordedAnswer<Result>(store, commandId, payload);
    if (recorded) return recorded;
  }
  let lastConflict: WrongExpectedVersion | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const { state, version } = await loadAggregate(store, streamId, decider, options.snapshots);
    let decided: NewEvent[];
    try {
      decided = decider.decide(command, state);
    } catch (refusal) {
      if (commandId === undefined) throw refusal;
      return replayOrRethrow<Result>(store, commandId, payload, refusal);
    }
    const events = options.metadata
      ? decided.map((e) => ({ ...e, metadata: { ...options.metadata, ...e.metadata } }))
      : decided;
    const newVersion = version + events.length;
    const result = options.result
      ? options.result({ state, events, version: newVersion })
      : ({ streamId, version: newVersion } as Result);
    const appends = [{ streamId, expected: version, events }];
    try {
      if (commandId === undefined) {
        if (events.length > 0) await store.appendMany(appends);
        return { result, replayed: false, attempts: attempt };
      }
      const outcome = await store.appendCommand({ commandId, payload, result }, appends);
      return { result: outcome.result as Result, replayed: outcome.replayed, attempts: attempt };
    } catch (err) {
      if (!(err instanceof WrongExpectedVersion)) throw err;
      lastConflict = err;
    }
  }
  throw new ConcurrencyRetriesExhausted(streamId, maxAttempts, lastConflict!);
}
