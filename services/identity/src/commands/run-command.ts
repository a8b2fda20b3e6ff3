import {
  CommandIdReused,
  CommandRetriesExhausted,
  type Decider,
  type EventMetadata,
  type EventStore,
  loadAggregate,
  type NewEvent,
  runMultiStreamCommand,
  type StreamAppend,
} from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import type pg from "pg";
import { invalidInput } from "../domain/errors.js";
import { applyToReadModels } from "../projections/read-models.js";

export interface Plan<Result> {
  /** Events per stream, each with the version it was decided on (none: the stream was read). */
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
 * version and the command record, update the read models from those events, alsoWrite
 * (runMultiStreamCommand, with the inline read models as its alsoWrite). Idempotent by command
 * id; a version conflict re-plans. A refused command throws from plan, before anything is
 * written. Each event is stamped with the command id. A stream with no events is checked at its
 * version, not written: a command that read it plans again when another command moved it, so
 * two commands that each read what the other writes cannot both commit on stale reads.
 */
export async function runPlan<Result>(
  store: EventStore,
  o: RunPlanOptions<Result>,
): Promise<{ result: Result; replayed: boolean }> {
  try {
    const { result, replayed } = await runMultiStreamCommand(store, {
      commandId: o.commandId,
      payload: o.payload,
      metadata: { ...o.metadata, commandId: o.commandId },
      plan: async () => {
        const planned = await o.plan();
        return {
          // A stream without events is one the decision read: its version is still checked.
          appends: planned.appends,
          result: planned.result,
          alsoWrite: async (client, events) => {
            for (const e of events) await applyToReadModels(client, e);
            await o.alsoWrite?.(client, events);
          },
        };
      },
      onUniqueViolation: (err) => CONSTRAINT_ERRORS[err.constraint ?? ""]?.() ?? err,
    });
    return { result, replayed };
  } catch (err) {
    if (err instanceof CommandIdReused) throw commandIdReused();
    if (err instanceof CommandRetriesExhausted) {
      throw new DomainError(
        "conflict",
        `command ${o.commandId}: its streams changed concurrently on each of ${err.attempts} attempts; retry it`,
      );
    }
    throw err;
  }
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

/**
 * One aggregate's part of a plan: load it and decide the command on its state (throws to
 * refuse); the events with the version they were decided on.
 */
export async function decideOnStream<State, Command>(
  store: EventStore,
  streamId: string,
  decider: Decider<State, Command>,
  command: Command,
): Promise<StreamAppend> {
  const { state, version } = await loadAggregate(store, streamId, decider);
  return { streamId, expected: version, events: decider.decide(command, state) };
}

/**
 * An aggregate a decision reads but does not write: its state, and the read for the plan's
 * appends (no events, its version checked), so a command that moves it meanwhile makes the
 * plan run again on what it wrote.
 */
export async function readStream<State, Command>(
  store: EventStore,
  streamId: string,
  decider: Decider<State, Command>,
): Promise<{ state: State; read: StreamAppend }> {
  const { state, version } = await loadAggregate(store, streamId, decider);
  return { state, read: { streamId, expected: version, events: [] } };
}

const commandIdReused = () =>
  invalidInput("command_id", "was already used for a different command");
