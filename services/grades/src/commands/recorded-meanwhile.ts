import { CommandIdReused, type EventStore, replayOrRethrow } from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";

/** A command id recorded with another payload: the client reused it for another command. */
export const commandIdReused = () =>
  invalidInput("command_id", "was already used for a different command");

/**
 * A refusal may be only what the command's own first run left: a retry with the same command
 * id that looked for its record before that run committed, and decided after (a second term
 * mark, an absence already excused, a revoked mark, a closed term). Then it answers as any
 * retry does, the first run's result (`replayed`), not the refusal; with another payload it is
 * a reused command id (the event store's replayOrRethrow, which handleCommand and
 * runMultiStreamCommand use too; the journal batcher decides on its own). Anything else is
 * thrown as it was.
 */
export async function replayOfRefused(
  store: Pick<EventStore, "findCommand">,
  command: { commandId: string; payload: unknown },
  err: unknown,
): Promise<{ result: unknown; replayed: true }> {
  if (!(err instanceof DomainError)) throw err;
  try {
    const { result } = await replayOrRethrow(store, command.commandId, command.payload, err);
    return { result, replayed: true };
  } catch (e) {
    if (e instanceof CommandIdReused) throw commandIdReused();
    throw e;
  }
}
