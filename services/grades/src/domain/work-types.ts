import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { ruleViolated } from "./errors.js";
import { EVENT_TYPE_PREFIX, newEvent, type WorkTypeWeightsSet } from "./events.js";

/** A school's `worktypes-<schoolId>` stream: the table last set, none before the first. */
export interface WorkTypeTableState {
  weights: Readonly<Record<string, number>> | undefined;
}

/** SetWorkTypeWeights, validated (work types unique, weights 1-10), as the event will carry it. */
export type SetWorkTypeWeightsCommand = WorkTypeWeightsSet;

const WEIGHTS_SET = `${EVENT_TYPE_PREFIX}WorkTypeWeightsSet`;

/**
 * Pure: decided on the stream as loaded and appended at its version, so of two identical
 * concurrent calls the second re-decides on the first's table and is refused `weights_unchanged`.
 */
export const workTypeTableDecider: Decider<WorkTypeTableState, SetWorkTypeWeightsCommand> = {
  initialState: () => ({ weights: undefined }),
  evolve(state: WorkTypeTableState, event: RecordedEvent): WorkTypeTableState {
    if (event.type !== WEIGHTS_SET) return state;
    return { weights: toTable((event.data as WorkTypeWeightsSet).weights) };
  },
  decide(command: SetWorkTypeWeightsCommand, state: WorkTypeTableState): NewEvent[] {
    if (state.weights && sameTable(state.weights, toTable(command.weights)))
      throw ruleViolated(
        "weights",
        "weights_unchanged",
        `school ${command.schoolId}'s work-type table is already ${command.weights.map((w) => `${w.workType} ${w.weight}`).join(", ")}`,
      );
    return [newEvent("WorkTypeWeightsSet", command)];
  },
};

function toTable(weights: readonly { workType: string; weight: number }[]) {
  const table: Record<string, number> = {};
  for (const w of weights) table[w.workType] = w.weight;
  return table;
}

/** The same work types with the same weights, in any order. */
function sameTable(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
