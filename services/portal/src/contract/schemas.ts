import { z } from "zod";

// The JSON shape of each portal.v1 message (proto3 JSON mapping of proto/otmetka/portal/v1):
// validated before publication and rendered as JSON Schema for subscribers (schemas/).
const id = z.string().min(1);
const rfc3339 = z.iso.datetime({ offset: true });
const markText = z.enum(["1", "2", "3", "4", "5", "pass", "fail", "not_attested"]);

export const termMarkSchema = z.strictObject({
  term: z.number().int().min(1).max(4),
  mark: markText,
});

const civilDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** An exemption (осв.) from a subject, inclusive civil dates; never its reason. */
export const subjectExemptionSchema = z.strictObject({ firstDay: civilDate, lastDay: civilDate });

export const subjectPerformanceSchema = z.strictObject({
  subjectId: id,
  currentMarks: z.array(markText),
  average: z.string().regex(/^(\d\.\d\d)?$/),
  termMarks: z.array(termMarkSchema),
  yearMark: z.union([markText, z.literal("")]),
  // Added within v1: optional and absent when the pupil has none (never `[]`), so a snapshot
  // without exemptions is exactly what it was before and what the proto3 JSON mapping gives.
  exemptions: z.array(subjectExemptionSchema).min(1).optional(),
});

export const pupilPerformanceUpdatedSchema = z.strictObject({
  portalId: id,
  schoolId: id,
  municipalityId: id,
  academicYear: z.number().int(),
  currentTerm: z.number().int().min(0).max(4),
  subjects: z.array(subjectPerformanceSchema),
  absences: z.strictObject({
    lessonsMissed: z.number().int().min(0),
    excused: z.number().int().min(0),
    late: z.number().int().min(0),
  }),
  asOf: rfc3339,
});

export const pupilConsentWithdrawnSchema = z.strictObject({
  portalId: id,
  schoolId: id,
  municipalityId: id,
  withdrawnAt: rfc3339,
});

export const pupilErasedSchema = z.strictObject({ portalId: id, erasedAt: rfc3339 });

export const workProgrammeSchema = z.strictObject({
  programmeId: id,
  schoolId: id,
  municipalityId: id,
  academicYear: z.number().int(),
  subjectId: id,
  gradeLevel: z.number().int().min(1).max(11),
  version: z.number().int().min(1),
  topics: z.array(
    z.strictObject({
      itemId: id,
      topic: z.string(),
      hours: z.number().int().min(0),
      deliveredLessons: z.number().int().min(0),
    }),
  ),
  totalHours: z.number().int().min(0),
  deliveredLessons: z.number().int().min(0),
});

export const schoolReferenceSchema = z.strictObject({
  schoolId: id,
  municipalityId: id,
  name: z.string(),
  shortName: z.string(),
  closedOn: z.string().regex(/^(\d{4}-\d{2}-\d{2})?$/),
});

export const classGroupReferenceSchema = z.strictObject({
  classGroupId: id,
  schoolId: id,
  municipalityId: id,
  academicYear: z.number().int(),
  gradeLevel: z.number().int().min(1).max(11),
  letter: z.string(),
  closed: z.boolean(),
});

export type PupilPerformanceData = z.infer<typeof pupilPerformanceUpdatedSchema>;
export type SubjectPerformanceData = z.infer<typeof subjectPerformanceSchema>;
export type WorkProgrammeData = z.infer<typeof workProgrammeSchema>;
export type SchoolReferenceData = z.infer<typeof schoolReferenceSchema>;
export type ClassGroupReferenceData = z.infer<typeof classGroupReferenceSchema>;
