import {
  CommandIdReused,
  type Decider,
  type EventMetadata,
  type EventStore,
  loadAggregate,
  type NewEvent,
  payloadHash,
  WrongExpectedVersion,
} from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import type pg from "pg";
import { invalidInput } from "../domain/errors.js";
import { applyToReadModels } from "../projections/read-models.js";

export interface RunCommandOptions<State, Command, Result> {
  streamId: string;
  decider: Decider<State, Command>;
  command: Command;
  commandId: string;
  /** What the command id must always mean (the request without secrets); default `command`. */
  payload?: unknown;
  result: (outcome: { state: State; events: NewEvent[] }) => Result;
  metadata?: EventMetadata;
  /** More writes in the same transaction, after the events and read models (e.g. keys). */
  alsoWrite?: (client: pg.PoolClient, events: NewEvent[]) => Promise<void>;
}

const MAX_ATTEMPTS = 5;

/**
 * load -> decide -> (append events + command record, update read models, alsoWrite) in one
 * transaction. The event store's appendCommand makes the command idempotent by id; a version
 * conflict is retried by deciding again. A refused command throws before anything is written.
 * (handleCommand of @otmetka/eventstore does the same without the caller's transaction,
 * which the inline read models need.)
 */
export async function runCommand<State, Command, Result>(
  store: EventStore,
  o: RunCommandOptions<State, Command, Result>,
): Promise<{ result: Result; replayed: boolean }> {
  const payload = o.payload ?? o.command;
  const stored = await store.findCommand(o.commandId);
  if (stored) {
    if (stored.payloadHash !== payloadHash(payload)) throw commandIdReused();
    return { result: stored.result as Result, replayed: true };
  }
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { state, version } = await loadAggregate(store, o.streamId, o.decider);
    const decided = o.decider.decide(o.command, state);
    const events = decided.map((e) => ({
      ...e,
      metadata: { ...o.metadata, commandId: o.commandId },
    }));
    const result = o.result({ state, events });
    const client = await store.pool.connect();
    try {
      await client.query("BEGIN");
      const outcome = await store.appendCommand(
        { commandId: o.commandId, payload, result },
        [{ streamId: o.streamId, expected: version, events }],
        { client },
      );
      if (!outcome.replayed) {
        for (const e of events) await applyToReadModels(client, e);
        await o.alsoWrite?.(client, events);
      }
      await client.query("COMMIT");
      return { result: outcome.result as Result, replayed: outcome.replayed };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      if (err instanceof CommandIdReused) throw commandIdReused();
      if (!(err instanceof WrongExpectedVersion)) throw err;
    } finally {
      client.release();
    }
  }
  throw new DomainError(
    "conflict",
    `${o.streamId}: changed concurrently on each of ${MAX_ATTEMPTS} attempts; retry the command`,
  );
}

const commandIdReused = () =>
  invalidInput("command_id", "was already used for a different command");
