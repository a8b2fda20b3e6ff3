import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import {
  AsOfMode,
  type Dashboard as DashboardMsg,
  type DashboardQuery as DashboardQueryMsg,
  type Distribution,
  ExportFormat,
  type ExportPerformanceReportRequest,
  type Figure as FigureMsg,
  Level,
  ResultBasis,
} from "@otmetka/proto/reporting/v1/reporting_service";
import { academicYearDays, civilDateIn, formatAcademicYear } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";
import type { ResultBasis as Basis } from "../domain/metrics/definitions.js";
import type { Figure } from "../domain/metrics/figure.js";
import type { ReportRequest } from "../exports/performance-report.js";
import { CLOCK_ZONE } from "../projections/day-close.js";
import type { Level as DomainLevel } from "../projections/deltas.js";
import type { Dashboard, DashboardQuery, AsOfMode as Mode } from "../queries/dashboards.js";
import type { Period } from "../queries/periods.js";

const MARKS: Record<string, MarkValue> = {
  "1": MarkValue.MARK_VALUE_ONE,
  "2": MarkValue.MARK_VALUE_TWO,
  "3": MarkValue.MARK_VALUE_THREE,
  "4": MarkValue.MARK_VALUE_FOUR,
  "5": MarkValue.MARK_VALUE_FIVE,
  PASS: MarkValue.MARK_VALUE_PASS,
  FAIL: MarkValue.MARK_VALUE_FAIL,
  NOT_ATTESTED: MarkValue.MARK_VALUE_NOT_ATTESTED,
};
export const markValue = (v: string) => MARKS[v] ?? MarkValue.MARK_VALUE_UNSPECIFIED;

const REASONS: Record<string, AbsenceReason> = {
  NONE: AbsenceReason.ABSENCE_REASON_NONE,
  ILLNESS: AbsenceReason.ABSENCE_REASON_ILLNESS,
  EXCUSED: AbsenceReason.ABSENCE_REASON_EXCUSED,
  UNEXCUSED: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
};
export const absenceReason = (r: string) => REASONS[r] ?? AbsenceReason.ABSENCE_REASON_UNSPECIFIED;

const LEVELS: Partial<Record<Level, DomainLevel>> = {
  [Level.LEVEL_CLASS_GROUP]: "CLASS_GROUP",
  [Level.LEVEL_SCHOOL]: "SCHOOL",
  [Level.LEVEL_MUNICIPALITY]: "MUNICIPALITY",
  [Level.LEVEL_REGION]: "REGION",
};

/** Today in the region's zone (the recorded-time clock's): a UTC date is yesterday's until 05:00 there. */
export const today = () => civilDateIn(new Date(), CLOCK_ZONE);

/**
 * An as-of day the caller gave: not before the academic year (nothing of the year is known
 * then, and the figures would be silent zeros), and in recorded mode not after today (what
 * will be known at the end of a later day is not known yet: the live state would be served
 * under that day's name and change after it). Civil dates compare as text.
 */
function checkAsOf(asOf: string, startYear: number, mode: Mode | undefined): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) return; // the period's resolution names a malformed date
  const first = academicYearDays(startYear).firstDay;
  if (Number.isInteger(startYear) && startYear >= 2000 && asOf < first)
    throw invalidInput(
      "asOf",
      `${asOf} is before the academic year ${formatAcademicYear(startYear)} (from ${first})`,
    );
  const now = today();
  if (mode === "RECORDED" && asOf > now)
    throw invalidInput(
      "asOf",
      `${asOf} is after today (${now}): recorded mode serves what was known at the end of a day that has begun`,
    );
}

function periodOf(q: DashboardQueryMsg): Period {
  if (q.term !== undefined) return { kind: "TERM", term: q.term };
  if (q.year) return { kind: "YEAR" };
  if (q.current) return { kind: "CURRENT" };
  if (q.range) return { kind: "RANGE", from: q.range.from, to: q.range.to };
  throw invalidInput("period", "one of term, year, current or range is required");
}

export function dashboardQueryOf(q: DashboardQueryMsg): DashboardQuery {
  const level = LEVELS[q.level];
  if (!level) throw invalidInput("level", "must be CLASS_GROUP, SCHOOL, MUNICIPALITY or REGION");
  const basis: Basis | undefined =
    q.basis === ResultBasis.RESULT_BASIS_CURRENT
      ? "CURRENT"
      : q.basis === ResultBasis.RESULT_BASIS_PERIOD_MARKS
        ? "PERIOD_MARKS"
        : undefined;
  const startYear = q.academicYear?.startYear ?? 0;
  const mode = modeOf(q.asOfMode);
  if (q.asOf) checkAsOf(q.asOf, startYear, mode);
  return {
    level,
    scopeId: level === "REGION" ? "region" : q.scopeId,
    startYear,
    subjectId: q.subjectId,
    period: periodOf(q),
    asOf: q.asOf || today(),
    basis,
    mode,
    definitionVersion: q.definitionVersion,
  };
}

export function modeOf(m: AsOfMode | undefined): Mode | undefined {
  if (m === AsOfMode.AS_OF_MODE_RECORDED) return "RECORDED";
  if (m === AsOfMode.AS_OF_MODE_EFFECTIVE) return "EFFECTIVE";
  if (m === undefined || m === AsOfMode.AS_OF_MODE_UNSPECIFIED) return undefined;
  throw invalidInput("asOfMode", `must be RECORDED or EFFECTIVE, got ${String(m)}`);
}

export const modeMsg = (m: Mode | null | undefined): AsOfMode =>
  m === "RECORDED"
    ? AsOfMode.AS_OF_MODE_RECORDED
    : m === "EFFECTIVE"
      ? AsOfMode.AS_OF_MODE_EFFECTIVE
      : AsOfMode.AS_OF_MODE_UNSPECIFIED;

const figure = (f: Figure): FigureMsg => ({
  ...(f.value === null ? {} : { value: f.value }),
  numerator: f.numerator,
  denominator: f.denominator,
  definition: f.definition,
});

const distribution = (d: Readonly<Record<string, number>>): Distribution => ({
  one: d["1"] ?? 0,
  two: d["2"] ?? 0,
  three: d["3"] ?? 0,
  four: d["4"] ?? 0,
  five: d["5"] ?? 0,
  pass: d.PASS ?? 0,
  fail: d.FAIL ?? 0,
  notAttested: d.NOT_ATTESTED ?? 0,
});

export function dashboardMsg(d: Dashboard): DashboardMsg {
  const p = d.performance;
  const a = d.attendance;
  return {
    term: d.period.term ?? 0,
    from: d.period.from,
    to: d.period.to,
    basis:
      d.period.basis === "CURRENT"
        ? ResultBasis.RESULT_BASIS_CURRENT
        : ResultBasis.RESULT_BASIS_PERIOD_MARKS,
    performance: p
      ? {
          pupilCount: figure(p.pupilCount),
          passRate: figure(p.passRate),
          qualityPerPupil: figure(p.qualityPerPupil),
          qualityPerMark: figure(p.qualityPerMark),
          degreeOfLearning: figure(p.degreeOfLearning),
          average: figure(p.average),
          weightedAverage: figure(p.weightedAverage),
          distributionDefinition: p.distribution.definition,
          results: distribution(p.distribution.results),
          entries: distribution(p.distribution.entries),
        }
      : undefined,
    quality: d.quality ? figure(d.quality) : undefined,
    allSubjects: d.allSubjects
      ? {
          pupilCount: figure(d.allSubjects.pupilCount),
          passRate: figure(d.allSubjects.passRate),
          qualityRate: figure(d.allSubjects.qualityRate),
        }
      : undefined,
    attendance: {
      attendanceRate: figure(a.attendanceRate),
      missedLessons: a.missedLessons,
      missedDays: a.missedDays,
      lateArrivals: a.lateness.arrivals,
      lateMinutes: a.lateness.minutes,
      latenessDefinition: a.lateness.definition,
    },
    journal: {
      fillRate: figure(d.journal.fillRate),
      timeliness: figure(d.journal.timeliness),
      ...(d.journal.medianDelayDays.value === null
        ? {}
        : { medianDelayDays: d.journal.medianDelayDays.value }),
      medianDelayDefinition: d.journal.medianDelayDays.definition,
    },
    programmeDelivery: d.programmeDelivery ? figure(d.programmeDelivery) : undefined,
    definitionVersion: d.definitionVersion,
    asOfMode: modeMsg(d.mode),
  };
}

export function exportRequestOf(r: ExportPerformanceReportRequest): {
  request: ReportRequest;
  format: "CSV" | "XLSX";
} {
  const level = LEVELS[r.level];
  if (level !== "SCHOOL" && level !== "MUNICIPALITY")
    throw invalidInput("level", "must be SCHOOL or MUNICIPALITY");
  if (!r.scopeId) throw invalidInput("scopeId", "is required");
  if (r.term === undefined && !r.year) throw invalidInput("period", "term or year is required");
  const format =
    r.format === ExportFormat.EXPORT_FORMAT_XLSX
      ? "XLSX"
      : r.format === ExportFormat.EXPORT_FORMAT_CSV
        ? "CSV"
        : null;
  if (!format) throw invalidInput("format", "must be CSV or XLSX");
  const mode = modeOf(r.asOfMode);
  if (r.asOf) checkAsOf(r.asOf, r.academicYear?.startYear ?? 0, mode);
  return {
    format,
    request: {
      level,
      scopeId: r.scopeId,
      startYear: r.academicYear?.startYear ?? 0,
      term: r.term ?? 0,
      asOf: r.asOf || today(),
      mode,
      definitionVersion: r.definitionVersion,
      basis:
        r.basis === ResultBasis.RESULT_BASIS_CURRENT
          ? "CURRENT"
          : r.basis === ResultBasis.RESULT_BASIS_PERIOD_MARKS
            ? "PERIOD_MARKS"
            : undefined,
    },
  };
}
