import type { CivilDate } from "@otmetka/service-kit";
import { foldLessons, type Lesson, type LessonsState } from "./lessons.js";

/*
 * What a lesson occupies: its teacher and its room in its (date, period). One school can
 * give each (date, period, teacher) and (date, period, room) to one lesson only, whatever
 * class group holds it; the lesson_claims table (one row per lesson, a unique index on its
 * teacher and one on its room) is maintained from the lesson events in the transaction that
 * appends them.
 */

/** `teacher:<personId>` or `room:<room>`. */
export type Claim = string;

export const teacherClaim = (teacherId: string): Claim => `teacher:${teacherId}`;
export const roomClaim = (room: string): Claim => `room:${room}`;

/** What a claim names: a teacher (by id) or a room. */
export function claimTarget(claim: Claim): { kind: "teacher" | "room"; name: string } {
  return claim.startsWith("teacher:")
    ? { kind: "teacher", name: claim.slice("teacher:".length) }
    : { kind: "room", name: claim.slice("room:".length) };
}

/** A claim wanted (or held) in a date and period. */
export interface WantedClaim {
  date: CivilDate;
  period: number;
  claim: Claim;
}

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
  claims: readonly WantedClaim[],
): Map<string, ClaimHolder> {
  const out = new Map<string, ClaimHolder>();
  for (const c of claims) {
    const key = claimKey(c.date, c.period, c.claim);
    const holder = held.get(key);
    if (holder) out.set(key, holder);
  }
  return out;
}

/**
 * A lesson's row of the claims table: its teacher and its room (`""`: none) in its date and
 * period. One row a lesson (migration 2026-11-30_103; before, one row per claim).
 */
export interface ClaimRow extends ClaimHolder {
  schoolId: string;
  startYear: number;
  date: CivilDate;
  period: number;
  teacherId: string;
  room: string;
}

/**
 * The lesson's row: scheduled and conducted lessons occupy their teacher and room; cancelled
 * and unscheduled ones free them (no row).
 */
export function claimRow(l: Lesson): ClaimRow | undefined {
  if (l.status !== "scheduled" && l.status !== "conducted") return undefined;
  return {
    schoolId: l.schoolId,
    startYear: l.academicYear.startYear,
    date: l.date,
    period: l.period,
    teacherId: l.teacherId,
    room: l.room,
    lessonId: l.lessonId,
    classGroupId: l.classGroupId,
  };
}

/**
 * The claims to write for lesson events appended to a class group whose state was `before`:
 * every lesson the events touch loses the row of its state before them (`removed`, which the
 * table holds, as it is kept with the events) and gets the one after them (`rows`). A row
 * that stays the same (a conducted lesson keeps its teacher and room) is in neither.
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
  for (const id of touched) {
    const was = before.lessons.get(id);
    const old = was && claimRow(was);
    const is = after.lessons.get(id);
    const now = is && claimRow(is);
    if (old && now && sameClaims(old, now)) continue;
    if (old) removed.push(old);
    if (now) rows.push(now);
  }
  return { removed, rows };
}

const sameClaims = (a: ClaimRow, b: ClaimRow) =>
  a.date === b.date && a.period === b.period && a.teacherId === b.teacherId && a.room === b.room;
