import type { CivilDate } from "@otmetka/service-kit";
import type { TimetableSlotAdded } from "./events.js";
import type { StudyPlanState } from "./study-plan.js";

export interface Coverage {
  classGroupId: string;
  /** "" for a subject taught to the whole class. */
  subgroupId: string;
  gradeLevel: number;
  subjectId: string;
  plannedHours: number;
  timetabledHours: number;
}

/**
 * Where the week's timetable (slots valid on `onDate`) differs from the study plan: per class
 * group and subject, the slots a week against the plan's hours for the class group's grade.
 * A subgroup learns the whole subject, so each subgroup is compared on its own (its slots plus
 * the whole class's). Class groups without slots show every planned subject as missing.
 * A slot on a weekday past its grade level's week (`daysPerWeek`, gradeDaysPerWeek: a grade 1
 * Saturday slot of a calendar defined before that rule) gives no lessons and is not counted.
 */
export function planCoverage(
  plan: StudyPlanState,
  slots: Iterable<TimetableSlotAdded>,
  classGroups: readonly { classGroupId: string; gradeLevel: number }[],
  onDate: CivilDate,
  daysPerWeek: (gradeLevel: number) => number,
): Coverage[] {
  const grades = new Map(classGroups.map((g) => [g.classGroupId, g.gradeLevel]));
  const active = [...slots].filter(
    (s) => s.validFrom <= onDate && onDate <= s.validTo && s.weekday <= daysPerWeek(s.gradeLevel),
  );
  for (const s of active) if (!grades.has(s.classGroupId)) grades.set(s.classGroupId, s.gradeLevel);
  const planned = (grade: number, subjectId: string) =>
    plan.hours.get(`${grade}|${subjectId}`)?.hoursPerWeek ?? 0;
  const out: Coverage[] = [];
  for (const [classGroupId, gradeLevel] of grades) {
    const own = active.filter((s) => s.classGroupId === classGroupId);
    const subjects = new Set(own.map((s) => s.subjectId));
    for (const h of plan.hours.values()) if (h.gradeLevel === gradeLevel) subjects.add(h.subjectId);
    for (const subjectId of subjects) {
      const taught = own.filter((s) => s.subjectId === subjectId);
      const whole = taught.filter((s) => s.subgroupId === "").length;
      const subgroups = new Set(taught.map((s) => s.subgroupId).filter((id) => id !== ""));
      const rows =
        subgroups.size === 0
          ? [{ subgroupId: "", hours: whole }]
          : [...subgroups].map((subgroupId) => ({
              subgroupId,
              hours: whole + taught.filter((s) => s.subgroupId === subgroupId).length,
            }));
      const plannedHours = planned(gradeLevel, subjectId);
      for (const r of rows) {
        if (r.hours === plannedHours) continue;
        out.push({
          classGroupId,
          subgroupId: r.subgroupId,
          gradeLevel,
          subjectId,
          plannedHours,
          timetabledHours: r.hours,
        });
      }
    }
  }
  return out.sort(
    (a, b) =>
      a.gradeLevel - b.gradeLevel ||
      a.classGroupId.localeCompare(b.classGroupId) ||
      a.subjectId.localeCompare(b.subjectId) ||
      a.subgroupId.localeCompare(b.subgroupId),
  );
}

export interface ProgrammeHoursMismatch {
  gradeLevel: number;
  subjectId: string;
  weeklyHours: number;
  schoolWeeks: number;
  plannedHours: number;
  programmeVersion: number;
  programmeHours: number;
}

/**
 * Approved work programmes against the plan over the year: weekly hours × the grade's school
 * weeks (its school days over the week's length, rounded: 170 days of a five-day week are the
 * usual 34 weeks). Grades without a term system have no school weeks yet and are skipped.
 */
export function programmeHoursMismatches(
  plan: StudyPlanState,
  programmes: readonly { gradeLevel: number; subjectId: string; version: number; hours: number }[],
  schoolWeeks: ReadonlyMap<number, number>,
): ProgrammeHoursMismatch[] {
  const out: ProgrammeHoursMismatch[] = [];
  for (const p of programmes) {
    const weeks = schoolWeeks.get(p.gradeLevel);
    const weekly = plan.hours.get(`${p.gradeLevel}|${p.subjectId}`)?.hoursPerWeek;
    if (weeks === undefined || weekly === undefined) continue;
    if (weekly * weeks === p.hours) continue;
    out.push({
      gradeLevel: p.gradeLevel,
      subjectId: p.subjectId,
      weeklyHours: weekly,
      schoolWeeks: weeks,
      plannedHours: weekly * weeks,
      programmeVersion: p.version,
      programmeHours: p.hours,
    });
  }
  return out.sort((a, b) => a.gradeLevel - b.gradeLevel || a.subjectId.localeCompare(b.subjectId));
}
