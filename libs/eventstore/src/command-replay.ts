import { CommandIdReused } from "./errors.js";
import type { EventStore } from "./event-store.js";
import type { HandleCommandResult } from "./handle-command.js";
import { payloadHash } from "./payload-hash.js";

type Commands = Pick<EventStore, "findCommand">;

/**
 * The answer already recorded for a command id: its stored result (`replayed`), or
 * CommandIdReused when it was recorded with another payload; undefined when not recorded.
 */
export async function recordedAnswer<Result>(
  store: Commands,
  commandId: string,
  payload: unknown,
): Promise<HandleCommandResult<Result> | undefined> {
  const stored = await store.findCommand(commandId);
  if (!stored) return undefined;
  const hash = payloadHash(payload);
  if (stored.payloadHash !== hash) throw new CommandIdReused(commandId, stored.payloadHash, hash);
  return { result: stored.result as Result, replayed: true, attempts: 0 };
}

/**
 * A refusal may be only what the command's own first run left: a retry with the same id that
 * looked for its record before that run committed, and decided after it (the thing already
 * exists, the mark is already revoked). Then it answers as any retry does, with the first
 * run's result. Looked up only on a refusal, so an accepted command costs nothing more; when
 * the id is not recorded, or the lookup itself fails, the refusal is thrown as it was.
 */
export async function replayOrRethrow<Result>(
  store: Commands,
  commandId: string,
  payload: unknown,
  refusal: unknown,
): Promise<HandleCommandResult<Result>> {
  let answer: HandleCommandResult<Result> | undefined;
  try {
    answer = await recordedAnswer<Result>(store, commandId, payload);
  } catch (err) {
    if (err instanceof CommandIdReused) throw err;
    throw refusal;
  }
  if (!answer) throw refusal;
  return answer;
}
