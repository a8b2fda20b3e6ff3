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

/** Of the claims held (by claimKey), those among `claims`. */
export function heldOf(
  held: ReadonlyMap<string, ClaimHolder>,
  claims: readonly { date: CivilDate; period: number; claim: Claim }[],
): Map<string, ClaimHolder> {
  const out = new Map<string, ClaimHolder>();
  for (const c of claims) {
    const key = claimKey(c.date, c.period, c.claim);
    const holder = held.get(key);
    if (holder) out.set(key, holder);
  }
  return out;
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
 * every lesson the events touch loses the rows of its state before them (`removed`, which
 * the table holds, as it is kept with the events) and gets those after them (`rows`). Rows
 * in both (a conducted lesson keeps its teacher and room) are left out of both.
 */
export function claimChanges(
  before: LessonsState,
  events: readonly { type: string; data: unknown }[],
): { removed: ClaimRow[]; rows: ClaimRow[] } | undefined {
  if (events.length === 0) return undefined;
  const after = foldLessons(events, before);
  const touched = new Set(events.map((e) => (e.data as { lessonId: string }).lessonId));
  const removed: ClaimRow[] = [];
  const rows: ClaimRow[] = [];
  const same = (a: ClaimRow, b: ClaimRow) =>
    a.date === b.date && a.period === b.period && a.claim === b.claim;
  for (const id of touched) {
    const was = before.lessons.get(id);
    const is = after.lessons.get(id);
    const old = was ? claimRows(was) : [];
    const now = is ? claimRows(is) : [];
    removed.push(...old.filter((o) => !now.some((n) => same(o, n))));
    rows.push(...now.filter((n) => !old.some((o) => same(o, n))));
  }
  return { removed, rows };
}
