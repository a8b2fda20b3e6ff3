import { DomainError, requireRole } from "@otmetka/service-kit";
import { invalidInput, notReplicatedYet } from "../domain/errors.js";
import { checkTermNumber, requireReason } from "../domain/journal.js";
import { FACTS_SCHEMA as S } from "../projections/facts.js";
import type { Call, GradesDeps } from "./deps.js";
import { closeOrReopenTerm } from "./journal.js";
import { journalStreamId } from "./journal-context.js";

/**
 * Closes (or reopens) a term in every journal of a school and year: one journal per teaching
 * assignment the replica knows. Each journal is its own command (`<commandId>:<journal>`), so a
 * retry finishes what a failed run left; a journal already in that state counts as unchanged,
 * as does one without the term or that has not begun it, unless no journal could take it.
 * A journal whose first assignment arrives later is not covered.
 */
export async function closeOrReopenSchoolTerm(
  deps: GradesDeps,
  call: Call,
  req: { commandId: string; schoolId: string; startYear: number; term: number; reason: string },
  kind: "CloseTerm" | "ReopenTerm",
): Promise<{ replayed: boolean; journals: number; unchanged: number }> {
  if (req.commandId.trim() === "")
    throw invalidInput("command_id", "is required (a retry repeats it)");
  if (!Number.isInteger(req.startYear) || req.startYear < 2000)
    throw invalidInput("academic_year", "must be a start year such as 2026");
  // Checked here too, not only by each journal's decision: a school with no journal yet would
  // answer an impossible term or a missing reason with OK.
  checkTermNumber(req.term);
  requireReason(req.reason);
  const school = await deps.facts.school(req.schoolId);
  if (!school) throw notReplicatedYet("school_id", "school", req.schoolId);
  requireRole(call.caller, ["SCHOOL_ADMIN", "PLATFORM_ADMIN", "SERVICE"], {
    schoolId: req.schoolId,
  });
  const { rows } = await deps.store.pool.query<{
    class_group_id: string;
    subgroup_id: string;
    subject_id: string;
  }>(
    `SELECT DISTINCT a.class_group_id, a.subgroup_id, a.subject_id
       FROM ${S}.assignments a JOIN ${S}.class_groups cg USING (class_group_id)
      WHERE cg.school_id = $1 AND a.start_year = $2
      ORDER BY 1, 2, 3`,
    [req.schoolId, req.startYear],
  );
  let journals = 0;
  let unchanged = 0;
  let replayed = rows.length > 0;
  // The first journal that does not have the term, or has not begun it, and whether any
  // journal is already in the state asked for: if none is and none changed, no journal of
  // the school could take the term, so it is a slip of its number and is refused as the
  // journal refuses it (answering OK with every journal unchanged hid the slip).
  let cannotTake: DomainError | undefined;
  let alreadyThere = false;
  for (const r of rows) {
    const key = {
      classGroupId: r.class_group_id,
      subgroupId: r.subgroup_id,
      subjectId: r.subject_id,
      startYear: req.startYear,
    };
    const journal = { ...key, academicYear: { startYear: req.startYear } };
    try {
      const out = await closeOrReopenTerm(
        deps,
        call,
        {
          commandId: `${req.commandId}:${journalStreamId(key)}`,
          journal,
          term: req.term,
          reason: req.reason,
        },
        kind,
      );
      replayed &&= out.replayed;
      journals++;
    } catch (err) {
      // Already closed (or already open), or a journal whose grade level has no such term
      // (term 4 with trimesters) or has not begun it (its term dates differ): the school-wide
      // state holds for this journal.
      const rule =
        err instanceof DomainError &&
        /\[(term_closed|term_not_closed|no_such_term|term_not_begun)\]/.exec(err.message)?.[1];
      if (rule) {
        if (rule === "term_closed" || rule === "term_not_closed") alreadyThere = true;
        else cannotTake ??= err as DomainError;
        replayed = false;
        unchanged++;
        continue;
      }
      throw err;
    }
  }
  if (journals === 0 && !alreadyThere && cannotTake) throw cannotTake;
  return { replayed, journals, unchanged };
}
