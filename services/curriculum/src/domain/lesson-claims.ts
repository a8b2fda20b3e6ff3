import type { CivilDate } from "@otmetka/service-kit";
import { foldLessons, type Lesson, type LessonsState } from "./lessons.js";

/*
 * What a lesson occupies: its teacher and its room in its (date, period). One school can
 * give each (date, period, teacher) and (date, period, room) to one lesson only, whatever
 * class group holds it; the lesson_claims table (one row per claim, primary key on the
 * claim) is maintained from the lesson events in the transaction that appends them.
 */

/** `teacher:<personId>` or `room:<room>`. */
export type Claim = string;

export const teacherClaim = (teacherId: string): Claim => `teacher:${teacherId}`;
export const roomClaim = (room: string): Claim => `room:${room}`;

/** A claim's key inside one school and year. */
export const claimKey = (date: CivilDate, period: number, claim: Claim) =>
  `${date}|${period}|${claim}`;

/** The lesson that holds a claim. */
export interface ClaimHolder {
  lessonId: string;
  classGroupId: string;
}

export interface ClaimRow extends ClaimHolder {
  schoolId: string;
  startYear: number;
  date: CivilDate;
  period: number;
  claim: Claim;
}

/** Scheduled and conducted lessons occupy their teacher and room; cancelled and unscheduled free them. */
export function claimsOf(l: Lesson, teacherId = l.teacherId): Claim[] {
  if (l.status !== "scheduled" && l.status !== "conducted") return [];
  return l.room === "" ? [teacherClaim(teacherId)] : [teacherClaim(teacherId), roomClaim(l.room)];
}

export function claimRows(l: Lesson): ClaimRow[] {
  return claimsOf(l).map((claim) => ({
    schoolId: l.schoolId,
    startYear: l.academicYear.startYear,
    date: l.date,
    period: l.period,
    claim,
    lessonId: l.lessonId,
    classGroupId: l.classGroupId,
  }));
}

/**
 * The claims to write for lesson events appended to a class group whose state was `before`:
 * every lesson the events touch loses its rows and gets those of its state after them.
 */
export function claimChanges(
  before: LessonsState,
  events: readonly { type: string; data: unknown }[],
): { classGroupId: string; lessonIds: string[]; rows: ClaimRow[] } | undefined {
  const first = events[0];
  if (!first) return undefined;
  const after = foldLessons(events, before);
  const touched = new Set(events.map((e) => (e.data as { lessonId: string }).lessonId));
  const classGroupId = (first.data as { classGroupId: string }).classGroupId;
  const rows: ClaimRow[] = [];
  const lessonIds: string[] = [];
  for (const id of touched) {
    // A lesson new in these events has no rows yet.
    if (before.lessons.has(id)) lessonIds.push(id);
    const l = after.lessons.get(id);
    if (l) rows.push(...claimRows(l));
  }
  return { classGroupId, lessonIds, rows };
}
