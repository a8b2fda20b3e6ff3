import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { invalidInput, notFound, refused } from "./errors.js";
import { eventName, newEvent, type PlannedLesson, type WorkProgrammeDrafted } from "./events.js";
import type { Lesson } from "./lessons.js";
import { checkText, TEXT_LIMITS } from "./text.js";

/*
 * A work programme (рабочая программа / КТП) of a school for one subject and grade level in
 * one year: ordered planned lessons with topic and hours. Every revision is a new version;
 * a school admin approves a version, and every version stays readable.
 */
export const programmeIdOf = (
  schoolId: string,
  startYear: number,
  subjectId: string,
  gradeLevel: number,
) => `programme-${schoolId}-${startYear}-${gradeLevel}-${subjectId}`;

export const MAX_ITEMS = 400;

export interface ProgrammeVersion extends WorkProgrammeDrafted {
  approvedBy: string | undefined;
}

export interface ProgrammeState {
  versions: ProgrammeVersion[];
}

export type ProgrammeCommand =
  | {
      kind: "DraftWorkProgramme";
      scope: { schoolId: string; municipalityId: string; academicYear: { startYear: number } };
      subjectId: string;
      subjectKnown: boolean;
      gradeLevel: number;
      items: { topic: string; hours: number }[];
      authorId: string;
      authorIsStaff: boolean;
    }
  | { kind: "ApproveWorkProgramme"; version: number; approvedBy: string; approverIsStaff: boolean };

export const programmeDecider: Decider<ProgrammeState, ProgrammeCommand> = {
  initialState: () => ({ versions: [] }),
  evolve(state, event: RecordedEvent) {
    switch (eventName(event.type)) {
      case "WorkProgrammeDrafted":
        return {
          versions: [
            ...state.versions,
            { ...(event.data as WorkProgrammeDrafted), approvedBy: undefined },
          ],
        };
      case "WorkProgrammeApproved": {
        const { version, approvedBy } = event.data as { version: number; approvedBy: string };
        return {
          versions: state.versions.map((v) => (v.version === version ? { ...v, approvedBy } : v)),
        };
      }
      default:
        return state;
    }
  },
  decide(c, state): NewEvent[] {
    return c.kind === "DraftWorkProgramme" ? [draft(c, state)] : [approve(c, state)];
  },
};

function draft(
  c: Extract<ProgrammeCommand, { kind: "DraftWorkProgramme" }>,
  state: ProgrammeState,
) {
  if (!Number.isInteger(c.gradeLevel) || c.gradeLevel < 1 || c.gradeLevel > 11) {
    throw invalidInput("grade_level", `must be 1-11, got ${c.gradeLevel}`);
  }
  if (!c.subjectKnown)
    throw notFound("subject_id", "subject in the regional or school catalogue", c.subjectId);
  if (!c.authorIsStaff) throw notFound("author_id", "staff member of this school", c.authorId);
  if (c.items.length === 0 || c.items.length > MAX_ITEMS) {
    throw invalidInput("items", `must list 1-${MAX_ITEMS} planned lessons, got ${c.items.length}`);
  }
  const pending = state.versions.find((v) => v.approvedBy === undefined);
  if (pending)
    throw refused(
      "items",
      `version ${pending.version} is awaiting approval; approve it before revising`,
    );
  const version = state.versions.length + 1;
  const items: PlannedLesson[] = c.items.map((item, i) => {
    const topic = checkText(`items[${i}].topic`, item.topic, { max: TEXT_LIMITS.topic });
    if (!Number.isInteger(item.hours) || item.hours < 1 || item.hours > 20) {
      throw invalidInput(
        `items[${i}].hours`,
        `must be a whole number of lessons 1-20, got ${item.hours}`,
      );
    }
    return { itemId: `v${version}.${i + 1}`, topic, hours: item.hours };
  });
  return newEvent("WorkProgrammeDrafted", {
    ...c.scope,
    programmeId: programmeIdOf(
      c.scope.schoolId,
      c.scope.academicYear.startYear,
      c.subjectId,
      c.gradeLevel,
    ),
    subjectId: c.subjectId,
    gradeLevel: c.gradeLevel,
    version,
    items,
    authorId: c.authorId,
  });
}

function approve(
  c: Extract<ProgrammeCommand, { kind: "ApproveWorkProgramme" }>,
  state: ProgrammeState,
) {
  const v = state.versions.find((x) => x.version === c.version);
  if (!v) throw notFound("version", "work programme version", String(c.version));
  if (v.approvedBy !== undefined)
    throw refused("version", `version ${c.version} is already approved`);
  if (!c.approverIsStaff)
    throw notFound("approved_by", "staff member of this school", c.approvedBy);
  if (c.approvedBy === v.authorId)
    throw refused("approved_by", "the author cannot approve their own programme");
  return newEvent("WorkProgrammeApproved", {
    schoolId: v.schoolId,
    municipalityId: v.municipalityId,
    academicYear: v.academicYear,
    programmeId: v.programmeId,
    subjectId: v.subjectId,
    gradeLevel: v.gradeLevel,
    version: v.version,
    approvedBy: c.approvedBy,
  });
}

/** The version in force: the latest approved one. */
export const currentVersion = (state: ProgrammeState) =>
  state.versions.filter((v) => v.approvedBy !== undefined).at(-1);

export interface Delivery {
  version: number;
  /** Lessons the programme planned up to the date: the subject's lessons held or due by then, capped at its hours. */
  plannedToDate: number;
  /** Conducted lessons by then that name an item of this version. */
  conductedWithItem: number;
  totalHours: number;
  items: { itemId: string; topic: string; hours: number; conducted: number }[];
}

/**
 * Delivery of a programme version for one class group as of a date: the k-th lesson of the
 * subject (cancelled ones do not count) is where the programme's k-th hour is planned. A
 * subgroup learns the whole programme, so its delivery counts its own lessons and the whole
 * class's; `subgroupId` "" counts the whole class's lessons only.
 */
export function delivery(
  version: ProgrammeVersion,
  lessons: Iterable<Lesson>,
  asOf: string,
  subgroupId = "",
): Delivery {
  const own = [...lessons].filter(
    (l) =>
      l.subjectId === version.subjectId &&
      (l.subgroupId === "" || l.subgroupId === subgroupId) &&
      l.status !== "cancelled" &&
      l.status !== "unscheduled",
  );
  const totalHours = version.items.reduce((n, i) => n + i.hours, 0);
  const byItem = new Map(version.items.map((i) => [i.itemId, 0]));
  let conductedWithItem = 0;
  for (const l of own) {
    if (l.status !== "conducted" || l.date > asOf || !l.workProgrammeItemId) continue;
    if (!byItem.has(l.workProgrammeItemId)) continue;
    byItem.set(l.workProgrammeItemId, (byItem.get(l.workProgrammeItemId) ?? 0) + 1);
    conductedWithItem++;
  }
  return {
    version: version.version,
    plannedToDate: Math.min(totalHours, own.filter((l) => l.date <= asOf).length),
    conductedWithItem,
    totalHours,
    items: version.items.map((i) => ({ ...i, conducted: byItem.get(i.itemId) ?? 0 })),
  };
}

/** The subgroups a subject is taught in (from its lessons), in a stable order. */
export function subgroupsTaught(lessons: Iterable<Lesson>, subjectId: string): string[] {
  const ids = new Set<string>();
  for (const l of lessons)
    if (l.subjectId === subjectId && l.subgroupId !== "" && l.status !== "unscheduled")
      ids.add(l.subgroupId);
  return [...ids].sort();
}
