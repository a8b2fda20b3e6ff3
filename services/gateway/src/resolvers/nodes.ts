import type { ClassGroup } from "@otmetka/proto/identity/v1/identity_service";
import type { Diary, GetJournalViewResponse } from "@otmetka/proto/reporting/v1/reporting_service";

/** What resolvers hand to the fields of Journal, JournalRow and Diary. */
export interface JournalNode {
  classGroup: ClassGroup;
  /** Empty for the whole class group. */
  subgroupId: string;
  subjectId: string;
  term: number;
  view: GetJournalViewResponse;
  /** The role claim that allowed the journal; pupils reached through it carry it. */
  claim: string;
}

export interface JournalRowNode {
  pupilId: string;
  journal: JournalNode;
}

export interface DiaryNode {
  studentId: string;
  schoolId: string;
  diary: Diary;
  claim: string;
}
