import { randomUUID } from "node:crypto";
import { loadAggregate, type StreamAppend } from "@otmetka/eventstore";
import { academicYearDays, formatAcademicYear } from "@otmetka/service-kit";
import { requireAcademicYear } from "../domain/academic-year.js";
import { classGroupDecider } from "../domain/class-group.js";
import { currentPeriod } from "../domain/enrollment.js";
import { refused } from "../domain/errors.js";
import { personDecider } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import { requireCommandId, requireId } from "../domain/validators.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { loadSchool } from "./organisations.js";
import { runPlan } from "./run-command.js";

export const FINAL_GRADE = 11;

/**
 * Year rollover of one school, as one atomic command over many streams: each open class group
 * of the ending year is closed and continued by a new one (grade + 1, same letter and homeroom
 * teacher) in the next year; its current pupils are transferred there on 1 September; pupils
 * of the final grade are withdrawn on that day (they graduated) and their group has no
 * successor.
 */
export async function rollOverYear(
  deps: IdentityDeps,
  input: { commandId: string; schoolId: string; academicYear?: { startYear: number } | undefined },
  ctx: CallContext = {},
): Promise<{ classGroupIds: string[]; graduates: number }> {
  const commandId = requireCommandId(input.commandId);
  const schoolId = requireId("school_id", input.schoolId);
  const year = requireAcademicYear("academic_year", input.academicYear);
  const nextYear = year + 1;
  const { firstDay } = academicYearDays(nextYear);
  const { result } = await runPlan(deps.store, {
    commandId,
    payload: { type: "RollOverYear", schoolId, year },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    plan: async () => {
      const school = await loadSchool(deps, "school_id", schoolId);
      if (school.closedOn !== "") throw refused("school_id", `is closed since ${school.closedOn}`);
      const pool = deps.store.pool;
      const { rows: existing } = await pool.query(
        "SELECT 1 FROM class_groups WHERE school_id = $1 AND academic_year = $2 AND NOT closed LIMIT 1",
        [schoolId, nextYear],
      );
      if (existing.length > 0) {
        throw refused(
          "academic_year",
          `the school already has class groups in ${formatAcademicYear(nextYear)}`,
        );
      }
      const { rows: groups } = await pool.query<{ class_group_id: string }>(
        `SELECT class_group_id FROM class_groups
         WHERE school_id = $1 AND academic_year = $2 AND NOT closed
         ORDER BY grade_level, letter`,
        [schoolId, year],
      );
      if (groups.length === 0) {
        throw refused(
          "academic_year",
          `the school has no open class groups in ${formatAcademicYear(year)}`,
        );
      }
      const appends: StreamAppend[] = [];
      const classGroupIds: string[] = [];
      let graduates = 0;
      for (const { class_group_id: oldId } of groups) {
        const old = await loadAggregate(deps.store, streamIds.classGroup(oldId), classGroupDecider);
        appends.push({
          streamId: streamIds.classGroup(oldId),
          expected: old.version,
          events: classGroupDecider.decide({ type: "CloseClassGroup" }, old.state),
        });
        const graduating = old.state.gradeLevel >= FINAL_GRADE;
        let newId = "";
        if (!graduating) {
          newId = randomUUID();
          classGroupIds.push(newId);
          appends.push({
            streamId: streamIds.classGroup(newId),
            expected: "no_stream",
            events: classGroupDecider.decide(
              {
                type: "OpenClassGroup",
                classGroupId: newId,
                schoolId,
                municipalityId: school.municipalityId,
                academicYear: nextYear,
                gradeLevel: old.state.gradeLevel + 1,
                letter: old.state.letter,
                homeroomTeacherId: old.state.homeroomTeacherId,
              },
              classGroupDecider.initialState(),
            ),
          });
        }
        const { rows: pupils } = await pool.query<{ person_id: string }>(
          "SELECT person_id FROM enrollments WHERE class_group_id = $1 AND valid_to IS NULL ORDER BY person_id",
          [oldId],
        );
        for (const { person_id: personId } of pupils) {
          const p = await loadAggregate(deps.store, streamIds.person(personId), personDecider);
          if (p.state.erased || currentPeriod(p.state.enrollments)?.classGroupId !== oldId)
            continue;
          const events = graduating
            ? personDecider.decide({ type: "WithdrawStudent", effectiveDate: firstDay }, p.state)
            : personDecider.decide(
                {
                  type: "TransferStudent",
                  effectiveDate: firstDay,
                  target: {
                    classGroupId: newId,
                    schoolId,
                    municipalityId: school.municipalityId,
                    academicYear: nextYear,
                    gradeLevel: old.state.gradeLevel + 1,
                    classGroupClosed: false,
                    schoolClosedOn: school.closedOn,
                  },
                },
                p.state,
              );
          if (graduating) graduates++;
          appends.push({ streamId: streamIds.person(personId), expected: p.version, events });
        }
      }
      return { appends, result: { classGroupIds, graduates } };
    },
  });
  return result;
}
