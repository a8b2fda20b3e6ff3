import {
  AsOfMode,
  type DashboardQuery,
  ExportFormat,
  type ExportPerformanceReportRequest,
  ResultBasis,
} from "@otmetka/proto/reporting/v1/reporting_service";

/** The day the test schools' figures are asked for, in 2026/2027. */
export const AS_OF = "2026-10-26";

type Scoped<T> = Partial<T> & Pick<DashboardQuery, "level" | "scopeId">;

/**
 * A gRPC dashboard query of 2026/2027 as of AS_OF with every choice left to its default
 * (basis, mode, definition version, all subjects); `over` names the scope and the period.
 */
export const dashboardQuery = (over: Scoped<DashboardQuery>): DashboardQuery => ({
  academicYear: { startYear: 2026 },
  subjectId: "",
  asOf: AS_OF,
  basis: ResultBasis.RESULT_BASIS_UNSPECIFIED,
  asOfMode: AsOfMode.AS_OF_MODE_UNSPECIFIED,
  definitionVersion: 0,
  ...over,
});

/** A statutory export request of 2026/2027 as of AS_OF, CSV, defaults otherwise. */
export const exportRequest = (
  over: Scoped<ExportPerformanceReportRequest>,
): ExportPerformanceReportRequest => ({
  academicYear: { startYear: 2026 },
  asOf: AS_OF,
  asOfMode: AsOfMode.AS_OF_MODE_UNSPECIFIED,
  definitionVersion: 0,
  format: ExportFormat.EXPORT_FORMAT_CSV,
  basis: ResultBasis.RESULT_BASIS_UNSPECIFIED,
  ...over,
});
