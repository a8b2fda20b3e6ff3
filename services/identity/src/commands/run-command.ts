import {
  CommandIdReused,
  type Decider,
  type EventMetadata,
  type EventStore,
  loadAggregate,
  type NewEvent,
  payloadHash,
  type StreamAppend,
  WrongExpectedVersion,
} from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import type pg from "pg";
import { invalidInput } from "../domain/errors.js";
import { applyToReadModels } from "../projections/read-models.js";

export interface Plan<Result> {
  /** Events per stream, each with the version it was decided on. */
  appends: StreamAppend[];
  result: Result;
}

export interface RunPlanOptions<Result> {
  commandId: string;
  /** What the command id must always mean (ids and values, no personal data in clear). */
  payload: unknown;
  /** Loads the aggregates and decides (pure deciders); called again after a conflict. */
  plan: () => Promise<Plan<Result>>;
  metadata?: EventMetadata;
  /** More writes in the same transaction, after the events and read models (e.g. keys). */
  alsoWrite?: (client: pg.PoolClient, events: NewEvent[]) => Promise<void>;
}

const MAX_ATTEMPTS = 5;

/** Unique indexes of the read models that back a rule, and the refusal a race gets. */
const CONSTRAINT_ERRORS: Record<string, () => DomainError> = {
  class_groups_open_name: () =>
    new DomainError(
      "failed_precondition",
      "letter: the school already has an open class group of that name that year",
      {
        field: "letter",
      },
    ),
};

/**
 * plan (load -> decide) -> one transaction: append every stream's events with its expected
 * version and the command record, update the read models from those events, alsoWrite.
 * appendCommand makes the command idempotent by id; a version conflict re-plans. A refused
 * command throws from plan, before anything is written. (handleCommand of
 * @otmetka/eventstore does this for one stream, but not inside the caller's transaction,
 * which the inline read models need.)
 */
export async function runPlan<Result>(
  store: EventStore,
  o: RunPlanOptions<Result>,
): Promise<{ result: Result; replayed: boolean }> {
  const stored = await store.findCommand(o.commandId);
  if (stored) {
    if (stored.payloadHash !== payloadHash(o.payload)) throw commandIdReused();
    return { result: stored.result as Result, replayed: true };
  }
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const planned = await o.plan();
    const appends = planned.appends
      .filter((a) => a.events.length > 0)
      .map((a) => ({
        ...a,
        events: a.events.map((e) => ({
          ...e,
          metadata: { ...o.metadata, commandId: o.commandId },
        })),
      }));
    const client = await store.pool.connect();
    try {
      await client.query("BEGIN");
      const outcome = await store.appendCommand(
        { commandId: o.commandId, payload: o.payload, result: planned.result },
        appends,
        { client },
      );
      if (!outcome.replayed) {
        const events = appends.flatMap((a) => a.events);
        for (const e of events) await applyToReadModels(client, e);
        await o.alsoWrite?.(client, events);
      }
      await client.query("COMMIT");
      return { result: outcome.result as Result, replayed: outcome.replayed };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      if (err instanceof CommandIdReused) throw commandIdReused();
      const constraint = (err as { code?: string; constraint?: string }).constraint;
      const known = constraint ? CONSTRAINT_ERRORS[constraint] : undefined;
      if ((err as { code?: string }).code === "23505" && known) throw known();
      if (!(err instanceof WrongExpectedVersion)) throw err;
    } finally {
      client.release();
    }
  }
  throw new DomainError(
    "conflict",
    `command ${o.commandId}: its streams changed concurrently on each of ${MAX_ATTEMPTS} attempts; retry it`,
  );
}

export interface RunCommandOptions<State, Command, Result> {
  streamId: string;
  decider: Decider<State, Command>;
  command: Command;
  commandId: string;
  payload?: unknown;
  result: (outcome: { state: State; events: NewEvent[] }) => Result;
  metadata?: EventMetadata;
  alsoWrite?: (client: pg.PoolClient, events: NewEvent[]) => Promise<void>;
}

/** runPlan for one aggregate: load -> decide -> append. */
export function runCommand<State, Command, Result>(
  store: EventStore,
  o: RunCommandOptions<State, Command, Result>,
): Promise<{ result: Result; replayed: boolean }> {
  return runPlan(store, {
    commandId: o.commandId,
    payload: o.payload ?? o.command,
    ...(o.metadata ? { metadata: o.metadata } : {}),
    ...(o.alsoWrite ? { alsoWrite: o.alsoWrite } : {}),
    plan: async () => {
      const { state, version } = await loadAggregate(store, o.streamId, o.decider);
      const events = o.decider.decide(o.command, state);
      return {
        appends: [{ streamId: o.streamId, expected: version, events }],
        result: o.result({ state, events }),
      };
    },
  });
}

const commandIdReused = () =>
  invalidInput("command_id", "was already used for a different command");
