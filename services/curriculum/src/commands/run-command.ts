import {
  CommandIdReused,
  ConcurrencyRetriesExhausted,
  type Decider,
  type EventMetadata,
  type EventStore,
  handleCommand,
} from "@otmetka/eventstore";
import { DomainError, hasControlCharacter } from "@otmetka/service-kit";
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
    if (err instanceof CommandIdReused)
      throw invalidInput("command_id", "was already used for a different command");
    if (err instanceof ConcurrencyRetriesExhausted) {
      throw new DomainError(
        "conflict",
        `command ${o.commandId}: ${o.streamId} changed concurrently on every attempt; retry it`,
      );
    }
    throw err;
  }
}
