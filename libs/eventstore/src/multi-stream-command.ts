import type pg from "pg";
import { recordedAnswer, replayOrRethrow } from "./command-replay.js";
import { CommandRetriesExhausted, WrongExpectedVersion } from "./errors.js";
import type { EventStore } from "./event-store.js";
import type { EventMetadata, NewEvent, StreamAppend } from "./event-types.js";
import type { HandleCommandResult } from "./handle-command.js";

/** One decision of a multi-stream command: what to append, what to answer, what to keep with it. */
export interface MultiStreamPlan<Result> {
  /**
   * Every stream the decision wrote (its events) or relied on (no events), each with the
   * version it was read at: the append happens only if all of them are still there.
   */
  appends: StreamAppend[];
  /** Stored with the command and returned (also to a later retry with the same id). */
  result: Result;
  /**
   * More writes in the append's own transaction, after the events, given the events appended
   * (metadata stamped, in append order): rows kept with the events (read models, claims).
   * Not run on a replay or a version conflict; what it throws rolls everything back.
   */
  alsoWrite?: (client: pg.PoolClient, events: NewEvent[]) => Promise<void>;
}

/** A PostgreSQL unique violation (SQLSTATE 23505) as `pg` reports it. */
export type UniqueViolation = Error & { code: "23505"; constraint?: string };

export interface MultiStreamCommandOptions<Result> {
  commandId: string;
  /** What the command id must always mean (its hash is stored with the command). */
  payload: unknown;
  /** Loads and decides (pure decide; throws to refuse, nothing written). Called again after a lost race. */
  plan: () => Promise<MultiStreamPlan<Result>>;
  /** Added to every event's metadata (the event's own keys win). */
  metadata?: EventMetadata;
  /**
   * A unique violation raised by the plan's `alsoWrite` (a concurrent command took the row
   * first): `"retry"` plans again on fresh reads; an Error is thrown instead (the refusal
   * that rule means). Without it the violation is thrown as is.
   */
  onUniqueViolation?: (err: UniqueViolation) => "retry" | Error;
  /**
   * When no append has events: `"record"` (default) stores the command, so a retry replays
   * it; `"skip"` writes nothing and returns the result (`replayed: false`), a retry plans again.
   */
  whenNoEvents?: "record" | "skip";
  /** Plan-append rounds before CommandRetriesExhausted; default 5. */
  maxAttempts?: number;
}

/**
 * The command helper for a decision over several streams (handleCommand's for one): idempotent
 * by command id (a stored id answers its result, or CommandIdReused for another payload), then
 * up to `maxAttempts` rounds of plan -> appendCommand with every stream's expected version and
 * the plan's `alsoWrite` in the same transaction. A stale read (WrongExpectedVersion) or a
 * retried unique violation plans again; after the last round, CommandRetriesExhausted.
 */
export async function runMultiStreamCommand<Result>(
  store: EventStore,
  o: MultiStreamCommandOptions<Result>,
): Promise<HandleCommandResult<Result>> {
  const recorded = await recordedAnswer<Result>(store, o.commandId, o.payload);
  if (recorded) return recorded;
  // A refusal may be what this command's own first run left (command-replay.ts).
  const refused = (refusal: unknown) =>
    replayOrRethrow<Result>(store, o.commandId, o.payload, refusal);
  const maxAttempts = o.maxAttempts ?? 5;
  let lost: Error | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let planned: MultiStreamPlan<Result>;
    try {
      planned = await o.plan();
    } catch (refusal) {
      return refused(refusal);
    }
    const appends = o.metadata ? withMetadata(planned.appends, o.metadata) : planned.appends;
    const { result } = planned;
    if (o.whenNoEvents === "skip" && appends.every((a) => a.events.length === 0)) {
      return { result, replayed: false, attempts: attempt };
    }
    // Only alsoWrite's unique violations are races of the caller's rows; the store's are its own.
    let alsoWriteFailed = false;
    const alsoWrite = planned.alsoWrite;
    const events = appends.flatMap((a) => a.events);
    const options = alsoWrite
      ? {
          alsoWrite: (client: pg.PoolClient) =>
            alsoWrite(client, events).catch((err: unknown) => {
              alsoWriteFailed = true;
              throw err;
            }),
        }
      : {};
    try {
      const out = await store.appendCommand(
        { commandId: o.commandId, payload: o.payload, result },
        appends,
        options,
      );
      return { result: out.result as Result, replayed: out.replayed, attempts: attempt };
    } catch (err) {
      if (err instanceof WrongExpectedVersion) {
        lost = err;
        continue;
      }
      if (alsoWriteFailed && isUniqueViolation(err) && o.onUniqueViolation) {
        const answer = o.onUniqueViolation(err);
        if (answer !== "retry") throw answer;
        lost = err;
        continue;
      }
      throw err;
    }
  }
  throw new CommandRetriesExhausted(o.commandId, maxAttempts, lost!);
}

function withMetadata(appends: StreamAppend[], metadata: EventMetadata): StreamAppend[] {
  return appends.map((a) => ({
    ...a,
    events: a.events.map((e) => ({ ...e, metadata: { ...metadata, ...e.metadata } })),
  }));
}

const isUniqueViolation = (err: unknown): err is UniqueViolation =>
  err instanceof Error && (err as { code?: unknown }).code === "23505";
