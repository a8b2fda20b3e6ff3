import type { Harness } from "./harness.js";
import { sealPortalId } from "./harness.js";

export const M = "m-1";
export const S = "s-1";
export const CG = "cg-5a";
const journal = (subjectId: string) => ({
  journalId: `j-${subjectId}`,
  schoolId: S,
  municipalityId: M,
  academicYear: { startYear: 2026 },
  classGroupId: CG,
  subjectId,
});

/** School, class group and enrolled pupils with portal ids (no consent yet). */
export async function seedSchool(
  h: Harness,
  pupils: { id: string; portalId: string }[],
): Promise<void> {
  await h.emit("identity", "SchoolRegistered", `school-${S}`, {
    schoolId: S,
    municipalityId: M,
    name: "МАОУ СОШ № 1",
    shortName: "СОШ 1",
    address: "ул. Ленина, 1",
    timeZone: "Asia/Yekaterinburg",
    inn: "7451234567",
    ogrn: "1027402345678",
  });
  await h.emit("identity", "ClassGroupOpened", `class-group-${CG}`, {
    classGroupId: CG,
    schoolId: S,
    municipalityId: M,
    academicYear: { startYear: 2026 },
    gradeLevel: 5,
    letter: "А",
    homeroomTeacherId: "t-1",
  });
  for (const p of pupils) {
    await h.emit("identity", "StudentEnrolled", `person-${p.id}`, {
      personId: p.id,
      classGroupId: CG,
      schoolId: S,
      municipalityId: M,
      academicYear: { startYear: 2026 },
      gradeLevel: 5,
      effectiveDate: "2026-09-01",
    });
    await h.emit("identity", "PortalIdAssigned", `person-${p.id}`, {
      personId: p.id,
      schoolId: S,
      municipalityId: M,
      portalId: sealPortalId(p.portalId),
    });
  }
}

let markNo = 0;
export async function recordMark(
  h: Harness,
  pupil: string,
  value: string,
  subjectId = "math",
  term = 1,
) {
  markNo++;
  await h.emit("grades", "MarkRecorded", `journal-j-${subjectId}`, {
    schoolId: S,
    municipalityId: M,
    journal: journal(subjectId),
    markId: `mark-${markNo}-${pupil}`,
    lessonId: `lesson-${markNo}`,
    lessonDate: "2026-09-10",
    term,
    studentId: pupil,
    value,
    workType: "oral",
    weight: 1,
    authorId: "t-1",
  });
}

export async function consent(h: Harness, pupil: string, granted: boolean) {
  await h.emit(
    "identity",
    granted ? "PortalConsentGranted" : "PortalConsentWithdrawn",
    `person-${pupil}`,
    {
      personId: pupil,
      guardianId: `g-${pupil}`,
      schoolId: S,
      municipalityId: M,
    },
  );
}

let exemptionNo = 0;
/** An exemption (осв.) from the subject over [firstDay, lastDay], as grades records it. */
export async function grantExemption(
  h: Harness,
  pupil: string,
  subjectId: string,
  firstDay: string,
  lastDay: string,
) {
  exemptionNo++;
  await h.emit("grades", "ExemptionGranted", `journal-j-${subjectId}`, {
    schoolId: S,
    municipalityId: M,
    journal: journal(subjectId),
    exemptionId: `exemption-${exemptionNo}-${pupil}`,
    studentId: pupil,
    firstDay,
    lastDay,
    reasonNoteId: `note-${exemptionNo}`,
    authorId: "t-1",
  });
}

let attendanceNo = 0;
/** Attendance of a lesson, as grades records it: the pupil absent (unexcused). */
export async function recordAbsence(h: Harness, pupil: string, subjectId = "math") {
  attendanceNo++;
  await h.emit("grades", "AttendanceRecorded", `journal-j-${subjectId}`, {
    schoolId: S,
    municipalityId: M,
    journal: journal(subjectId),
    lessonId: `attended-lesson-${attendanceNo}`,
    lessonDate: "2026-09-11",
    term: 1,
    entries: [{ studentId: pupil, reason: "ABSENCE_REASON_UNEXCUSED", lateMinutes: 0 }],
    authorId: "t-1",
  });
}

/** A term mark, as grades records it. */
export async function setTermMark(
  h: Harness,
  pupil: string,
  value: string,
  subjectId = "math",
  term = 1,
) {
  await h.emit("grades", "TermMarkSet", `journal-j-${subjectId}`, {
    schoolId: S,
    municipalityId: M,
    journal: journal(subjectId),
    studentId: pupil,
    term,
    value,
    weightedAverage: "",
    authorId: "t-1",
  });
}
