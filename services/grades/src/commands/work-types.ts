import {
  CommandIdReused,
  CommandRetriesExhausted,
  loadAggregate,
  runMultiStreamCommand,
} from "@otmetka/eventstore";
import { DomainError, requireRole } from "@otmetka/service-kit";
import type pg from "pg";
import { invalidInput, notReplicatedYet } from "../domain/errors.js";
import { checkWorkType } from "../domain/marks.js";
import { workTypeTableDecider } from "../domain/work-types.js";
import type { Call, GradesDeps } from "./deps.js";
import { commandIdReused } from "./recorded-meanwhile.js";

/**
 * A school's table of work types and weights: a WorkTypeWeightsSet event on the school's
 * `worktypes-<schoolId>` stream and the row marks read, in one transaction. Setting the table
 * the school already has is refused (`weights_unchanged`), decided under the stream's version.
 */
export async function setWorkTypeWeights(
  deps: GradesDeps,
  call: Call,
  req: { commandId: string; schoolId: string; weights: { workType: string; weight: number }[] },
): Promise<{ replayed: boolean }> {
  if (req.commandId.trim() === "")
    throw invalidInput("command_id", "is required (a retry repeats it)");
  if (req.schoolId.trim() === "") throw invalidInput("school_id", "is required");
  if (req.weights.length === 0) throw invalidInput("weights", "must list at least one work type");
  // A school's table is a handful of work types; the whole table is in every mark's facts read.
  if (req.weights.length > 50) throw invalidInput("weights", "must list at most 50 work types");
  const table: Record<string, number> = {};
  req.weights.forEach((w, i) => {
    checkWorkType(`weights[${i}].work_type`, w.workType);
    if (!Number.isInteger(w.weight) || w.weight < 1 || w.weight > 10)
      throw invalidInput(`weights[${i}].weight`, "must be 1-10");
    if (table[w.workType] !== undefined)
      throw invalidInput(`weights[${i}].work_type`, `${w.workType} is listed twice`);
    table[w.workType] = w.weight;
  });
  const school = await deps.facts.school(req.schoolId);
  if (!school) throw notReplicatedYet("school_id", "school", req.schoolId);
  requireRole(call.caller, ["SCHOOL_ADMIN", "PLATFORM_ADMIN", "SERVICE"], {
    schoolId: req.schoolId,
  });
  const stream = `worktypes-${req.schoolId}`;
  const command = {
    schoolId: req.schoolId,
    municipalityId: school.municipalityId,
    weights: req.weights.map((w) => ({ workType: w.workType, weight: w.weight })),
    authorId: call.caller.personId ?? call.caller.accountId,
  };
  try {
    const { replayed } = await runMultiStreamCommand(deps.store, {
      commandId: req.commandId,
      payload: req,
      metadata: { ...call.metadata, commandId: req.commandId },
      // "Unchanged" is decided on the stream as loaded and appended at that version: a call
      // racing an identical one (another command id) re-decides on its table and is refused,
      // never appends twice.
      plan: async () => {
        const { state, version } = await loadAggregate(deps.store, stream, workTypeTableDecider);
        const events = workTypeTableDecider.decide(command, state);
        return {
          appends: [{ streamId: stream, expected: version, events }],
          result: {},
          alsoWrite: (client) => writeTable(client, req.schoolId, table, version + events.length),
        };
      },
    });
    return { replayed };
  } catch (err) {
    if (err instanceof CommandIdReused) throw commandIdReused();
    if (err instanceof CommandRetriesExhausted)
      throw new DomainError(
        "conflict",
        `command ${req.commandId}: ${stream} changed concurrently on every attempt; retry it`,
      );
    throw err;
  }
}

/** The row marks read, in the append's transaction; an older version never overwrites a newer. */
async function writeTable(
  client: pg.PoolClient,
  schoolId: string,
  table: Record<string, number>,
  version: number,
) {
  await client.query(
    `INSERT INTO grades.work_type_weights (school_id, weights, version) VALUES ($1, $2, $3)
     ON CONFLICT (school_id) DO UPDATE SET weights = excluded.weights, version = excluded.version
       WHERE grades.work_type_weights.version < excluded.version`,
    [schoolId, JSON.stringify(table), version],
  );
}
