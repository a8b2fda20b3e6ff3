import { inOwnTransaction, payloadHash } from "@otmetka/eventstore";
import { requireRole } from "@otmetka/service-kit";
import { invalidInput, notReplicatedYet, ruleViolated } from "../domain/errors.js";
import { newEvent } from "../domain/events.js";
import { checkWorkType } from "../domain/marks.js";
import type { Call, GradesDeps } from "./deps.js";

/**
 * A school's table of work types and weights: a WorkTypeWeightsSet event on the school's
 * `worktypes-<schoolId>` stream and the row marks read, in one transaction.
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
  const stored = await deps.store.findCommand(req.commandId);
  if (stored) {
    if (stored.payloadHash !== payloadHash(req))
      throw invalidInput("command_id", "was already used for a different command");
    return { replayed: true };
  }
  // The table the school has already: setting it again changes nothing, so nothing is appended.
  const { rows } = await deps.store.pool.query<{ weights: Record<string, number> }>(
    "SELECT weights FROM grades.work_type_weights WHERE school_id = $1",
    [req.schoolId],
  );
  const current = rows[0]?.weights;
  if (current && sameTable(current, table))
    throw ruleViolated(
      "weights",
      "weights_unchanged",
      `school ${req.schoolId}'s work-type table is already ${req.weights.map((w) => `${w.workType} ${w.weight}`).join(", ")}`,
    );
  return inOwnTransaction(deps.store.pool, async (client) => {
    const outcome = await deps.store.appendCommand(
      { commandId: req.commandId, payload: req, result: {} },
      [
        {
          streamId: `worktypes-${req.schoolId}`,
          expected: "any",
          events: [
            {
              ...newEvent("WorkTypeWeightsSet", {
                schoolId: req.schoolId,
                municipalityId: school.municipalityId,
                weights: req.weights.map((w) => ({ workType: w.workType, weight: w.weight })),
                authorId: call.caller.personId ?? call.caller.accountId,
              }),
              metadata: { ...call.metadata, commandId: req.commandId },
            },
          ],
        },
      ],
      { client },
    );
    if (!outcome.replayed) {
      await client.query(
        `INSERT INTO grades.work_type_weights (school_id, weights, version) VALUES ($1, $2, $3)
         ON CONFLICT (school_id) DO UPDATE SET weights = excluded.weights, version = excluded.version
           WHERE grades.work_type_weights.version < excluded.version`,
        [req.schoolId, JSON.stringify(table), outcome.streams?.[0]?.version ?? 0],
      );
    }
    return { replayed: outcome.replayed };
  });
}

/** The same work types with the same weights, in any order. */
function sameTable(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
