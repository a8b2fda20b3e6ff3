/**
 * grades keeps one stream per journal (a class group's or subgroup's subject in a school
 * year). Its id is part of the platform's contract: grades' events carry it, reporting's
 * journal change notices are named by it and the gateway's journal subscription matches it.
 */
export interface JournalStreamKey {
  classGroupId: string;
  /** A subgroup journal's subgroup ("" or absent: the whole class group's journal). */
  subgroupId?: string;
  subjectId: string;
  startYear: number;
}

/** `journal-<subgroup or class group>-<subject>-<start year>`. */
export const journalStreamId = (k: JournalStreamKey): string =>
  `journal-${k.subgroupId || k.classGroupId}-${k.subjectId}-${k.startYear}`;

/**
 * Whether `streamId` is a journal of `owner` (a class group or subgroup) and exactly this
 * subject, of any year: subject ids may hold '-' ("MATH" and "MATH-ADV"), so the year after
 * the prefix must be all that is left.
 */
export function isJournalOf(streamId: string, owner: string, subjectId: string): boolean {
  const prefix = `journal-${owner}-${subjectId}-`;
  return streamId.startsWith(prefix) && /^\d{4}$/.test(streamId.slice(prefix.length));
}
