import type { NewEvent } from "@otmetka/eventstore";
import { academicYearDays, formatAcademicYear } from "@otmetka/service-kit";
import { refused } from "./errors.js";
import { type IdentityEvent, newEvent } from "./events.js";

/** A stay in a class group: from `from` (inclusive) to `to` (exclusive; "" while it lasts). */
export interface EnrollmentPeriod {
  classGroupId: string;
  schoolId: string;
  municipalityId: string;
  from: string;
  to: string;
}

/** What the command layer loaded about the target class group and its school. */
export interface EnrollmentTarget {
  classGroupId: string;
  schoolId: string;
  municipalityId: string;
  academicYear: number;
  gradeLevel: number;
  classGroupClosed: boolean;
  /** "" while the school is open. */
  schoolClosedOn: string;
}

export type EnrollmentCommand =
  | { type: "EnrollStudent"; target: EnrollmentTarget; effectiveDate: string }
  | { type: "TransferStudent"; target: EnrollmentTarget; effectiveDate: string }
  | { type: "WithdrawStudent"; effectiveDate: string };

export const currentPeriod = (periods: readonly EnrollmentPeriod[]) =>
  periods.find((p) => p.to === "");

function checkTarget(field: string, t: EnrollmentTarget, date: string): void {
  if (t.classGroupClosed) throw refused(field, "is closed");
  if (t.schoolClosedOn !== "" && date >= t.schoolClosedOn) {
    throw refused(field, `belongs to a school closed since ${t.schoolClosedOn}`);
  }
  const { firstDay, lastDay } = academicYearDays(t.academicYear);
  if (date < firstDay || date > lastDay) {
    throw refused(
      "effective_date",
      `is outside the class group's academic year ${formatAcademicYear(t.academicYear)}`,
    );
  }
}

/**
 * Enrollment rules over a pupil's history: at most one class group at any date, transfers and
 * withdrawals only from a current enrollment and after it began.
 */
export function decideEnrollment(
  command: EnrollmentCommand,
  periods: readonly EnrollmentPeriod[],
  personId: string,
): NewEvent[] {
  const date = command.effectiveDate;
  if (command.type === "EnrollStudent") {
    checkTarget("class_group_id", command.target, date);
    const overlapping = periods.find((p) => p.to === "" || p.to > date);
    if (overlapping) {
      const until = overlapping.to === "" ? "now" : overlapping.to;
      throw refused(
        "effective_date",
        `overlaps the enrollment in class group ${overlapping.classGroupId} from ${overlapping.from} to ${until}`,
      );
    }
    const t = command.target;
    return [
      newEvent("StudentEnrolled", {
        personId,
        classGroupId: t.classGroupId,
        schoolId: t.schoolId,
        municipalityId: t.municipalityId,
        academicYear: { startYear: t.academicYear },
        gradeLevel: t.gradeLevel,
        effectiveDate: date,
      }),
    ];
  }
  const current = currentPeriod(periods);
  if (!current) throw refused("person_id", "is not enrolled in a class group");
  if (date <= current.from) {
    throw refused("effective_date", `must be after the current enrollment began (${current.from})`);
  }
  if (command.type === "WithdrawStudent") {
    return [
      newEvent("StudentWithdrawn", {
        personId,
        classGroupId: current.classGroupId,
        schoolId: current.schoolId,
        municipalityId: current.municipalityId,
        effectiveDate: date,
      }),
    ];
  }
  const t = command.target;
  if (t.classGroupId === current.classGroupId) {
    throw refused("to_class_group_id", "is the pupil's current class group");
  }
  checkTarget("to_class_group_id", t, date);
  return [
    newEvent("StudentTransferred", {
      personId,
      fromClassGroupId: current.classGroupId,
      fromSchoolId: current.schoolId,
      fromMunicipalityId: current.municipalityId,
      toClassGroupId: t.classGroupId,
      schoolId: t.schoolId,
      municipalityId: t.municipalityId,
      academicYear: { startYear: t.academicYear },
      gradeLevel: t.gradeLevel,
      effectiveDate: date,
    }),
  ];
}

/** Closes the open period at `date` (exclusive). */
const closeOpen = (periods: readonly EnrollmentPeriod[], date: string) =>
  periods.map((p) => (p.to === "" ? { ...p, to: date } : p));

export function evolveEnrollment(
  periods: readonly EnrollmentPeriod[],
  e: IdentityEvent,
): readonly EnrollmentPeriod[] {
  switch (e.name) {
    case "StudentEnrolled": {
      const v = e.value;
      const { classGroupId, schoolId, municipalityId } = v;
      return [
        ...periods,
        { classGroupId, schoolId, municipalityId, from: v.effectiveDate, to: "" },
      ];
    }
    case "StudentTransferred": {
      const v = e.value;
      return [
        ...closeOpen(periods, v.effectiveDate),
        {
          classGroupId: v.toClassGroupId,
          schoolId: v.schoolId,
          municipalityId: v.municipalityId,
          from: v.effectiveDate,
          to: "",
        },
      ];
    }
    case "StudentWithdrawn":
      return closeOpen(periods, e.value.effectiveDate);
    default:
      return periods;
  }
}
