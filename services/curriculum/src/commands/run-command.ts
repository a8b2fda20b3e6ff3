import {
  CommandIdReused,
  CommandRetriesExhausted,
  ConcurrencyRetriesExhausted,
  type Decider,
  type EventMetadata,
  type EventStore,
  handleCommand,
  runMultiStreamCommand,
  type StreamAppend,
} from "@otmetka/eventstore";
import { DomainError, hasControlCharacter } from "@otmetka/service-kit";
import type pg from "pg";
import { invalidInput } from "../domain/errors.js";
import { TEXT_LIMITS } from "../domain/text.js";

/** A client-chosen id that makes retries safe: required, at most TEXT_LIMITS.id, one line. */
export function checkCommandId(commandId: string): void {
  if (commandId.trim() === "") throw invalidInput("command_id", "is required (a retry repeats it)");
  if (commandId.length > TEXT_LIMITS.id)
    throw invalidInput("command_id", `must be at most ${TEXT_LIMITS.id} characters`);
  if (hasControlCharacter(commandId))
    throw invalidInput("command_id", "must not contain control characters");
}

export interface RunCommandOptions<State, Command, Result> {
  streamId: string;
  decider: Decider<State, Command>;
  command: Command;
  commandId: string;
  /** What the command id must always mean; defaults to the command. */
  payload?: unknown;
  result: (state: State) => Result;
  metadata?: EventMetadata;
}

/**
 * load -> decide -> append with the expected version, idempotent by command id; maps the
 * store's errors to domain errors. A refused command throws from decide: nothing is written.
 */
export async function runCommand<State, Command, Result>(
  store: EventStore,
  o: RunCommandOptions<State, Command, Result>,
): Promise<{ result: Result; replayed: boolean }> {
  checkCommandId(o.commandId);
  try {
    const { result, replayed } = await handleCommand(store, {
      streamId: o.streamId,
      decider: o.decider,
      command: o.command,
      commandId: o.commandId,
      payload: o.payload ?? o.command,
      result: ({ state }) => o.result(state),
      ...(o.metadata ? { metadata: o.metadata } : {}),
    });
    return { result, replayed };
  } catch (err) {
    if (err instanceof CommandIdReused) throw commandIdReused();
    if (err instanceof ConcurrencyRetriesExhausted) {
      throw new DomainError(
        "conflict",
        `command ${o.commandId}: ${o.streamId} changed concurrently on every attempt; retry it`,
      );
    }
    throw err;
  }
}

export interface StreamsCommandOptions<Result> {
  commandId: string;
  /** What the command id must always mean. */
  payload: unknown;
  /** What changed when every attempt lost its race, for the ABORTED message. */
  what: string;
  /** The call's metadata, on every event appended (the event's own keys win). */
  metadata?: EventMetadata | undefined;
  /**
   * Loads and decides (throws to refuse): the appends — the stream written, with its events,
   * and every other stream the decision read, with the version read and no events — and the
   * result. Called again after a lost race. Nothing is appended when no append has events.
   * `alsoWrite` runs in the append's transaction, after the events (the lesson claims); a
   * unique violation there is a lost race too: decided again on fresh reads.
   */
  decide(): Promise<{
    appends: StreamAppend[];
    result: Result;
    alsoWrite?: (client: pg.PoolClient) => Promise<void>;
  }>;
}

/**
 * Like runCommand, for a decision that reads other streams than the one it writes
 * (runMultiStreamCommand): the store appends all of them in one statement under their locks
 * only if every one is still at the version read, so a decision on a stale read is never
 * appended but made again on fresh reads. Idempotent by command id (checked by the caller:
 * generation's are derived), errors mapped as runCommand maps them.
 */
export async function runStreamsCommand<Result>(
  store: EventStore,
  o: StreamsCommandOptions<Result>,
): Promise<{ result: Result; replayed: boolean }> {
  try {
    const { result, replayed } = await runMultiStreamCommand(store, {
      commandId: o.commandId,
      payload: o.payload,
      plan: () => o.decide(),
      ...(o.metadata ? { metadata: o.metadata } : {}),
      onUniqueViolation: () => "retry",
      whenNoEvents: "skip",
    });
    return { result, replayed };
  } catch (err) {
    if (err instanceof CommandIdReused) throw commandIdReused();
    if (err instanceof CommandRetriesExhausted) {
      throw new DomainError(
        "conflict",
        `command ${o.commandId}: ${o.what} changed concurrently on every attempt; retry it`,
      );
    }
    throw err;
  }
}

const commandIdReused = () =>
  invalidInput("command_id", "was already used for a different command");
