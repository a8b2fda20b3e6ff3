import { status } from "@grpc/grpc-js";
import type { ReportingServiceServer } from "@otmetka/proto/reporting/v1/reporting_service";
import {
  authorizedHandler,
  type CallerVerifier,
  GRPC_STATUS_OF_KIND,
  isDomainError,
  type Logger,
} from "@otmetka/service-kit";
import type { MetricsConfig } from "../domain/metrics/definitions.js";
import { reportFileName } from "../exports/file-name.js";
import { performanceReport } from "../exports/performance-report.js";
import { reportCsv, reportXlsx } from "../exports/render.js";
import { dashboard } from "../queries/dashboards.js";
import { checkDiaryRange, diary } from "../queries/diary.js";
import { journalView } from "../queries/journal-view.js";
import type { ReadDb } from "../queries/read-db.js";
import type { Access } from "./access.js";
import { withinBatchLimit } from "./batch-limit.js";
import {
  absenceReason,
  dashboardMsg,
  dashboardQueryOf,
  exportRequestOf,
  markValue,
} from "./mapping.js";

export interface ReportingDeps {
  db: ReadDb;
  access: Access;
  metrics: MetricsConfig;
}

/** Batch items fail on their own: a domain error becomes the item's error, anything else fails the call. */
async function item<T>(
  run: () => Promise<T>,
): Promise<{ ok: T } | { error: { code: string; message: string } }> {
  try {
    return { ok: await run() };
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return { error: { code: status[GRPC_STATUS_OF_KIND[err.kind]], message: err.message } };
  }
}

/** gRPC handlers: verify the caller, check the scope, map proto <-> read model; the formulas live in the domain. */
export function createReportingService(
  deps: ReportingDeps,
  verifier: CallerVerifier,
  logger: Logger,
): ReportingServiceServer {
  const handler = <Req, Res>(handle: Parameters<typeof authorizedHandler<Req, Res>>[2]) =>
    authorizedHandler<Req, Res>(logger, verifier, handle);
  return {
    getDiaries: handler(async (req, { caller }) => {
      const studentIds = withinBatchLimit("studentIds", req.studentIds);
      // The range is the call's, not an item's: refused whole, before any pupil is looked at.
      checkDiaryRange(req.from, req.to);
      return {
        results: await Promise.all(
          studentIds.map(async (studentId, i) => {
            const r = await item(async () => {
              await deps.access.diary(caller, studentId).catch((err: unknown) => {
                if (isDomainError(err)) err.message = `studentIds[${i}]: ${err.message}`;
                throw err;
              });
              return diary(deps.db, studentId, req.from, req.to);
            });
            if ("error" in r) return { studentId, error: r.error };
            const d = r.ok;
            return {
              studentId,
              diary: {
                studentId,
                lessons: d.lessons,
                marks: d.marks.map((m) => ({ ...m, value: markValue(m.value) })),
                absences: d.absences.map((a) => ({
                  ...a,
                  studentId,
                  reason: absenceReason(a.reason),
                })),
                averages: d.averages.map((a) => ({ ...a, studentId })),
                termMarks: d.termMarks.map((t) => ({ ...t, studentId, value: markValue(t.value) })),
                exemptions: d.exemptions,
              },
            };
          }),
        ),
      };
    }),
    getJournalView: handler(async (req, { caller }) => {
      await deps.access.classGroup(caller, req.classGroupId);
      const v = await journalView(deps.db, {
        classGroupId: req.classGroupId,
        subgroupId: req.subgroupId,
        subjectId: req.subjectId,
        startYear: req.academicYear?.startYear ?? 0,
        term: req.term,
      });
      return {
        studentIds: v.studentIds,
        lessons: v.lessons,
        marks: v.marks.map((m) => ({ ...m, value: markValue(m.value) })),
        absences: v.absences.map((a) => ({ ...a, reason: absenceReason(a.reason) })),
        averages: v.averages.map((a) => ({ ...a })),
        termMarks: v.termMarks.map((t) => ({
          ...t,
          subjectId: req.subjectId,
          value: markValue(t.value),
        })),
        exemptions: v.exemptions,
      };
    }),
    getDashboards: handler(async (req, { caller }) => ({
      results: await Promise.all(
        withinBatchLimit("queries", req.queries).map(async (query) => {
          const r = await item(async () => {
            const q = dashboardQueryOf(query);
            await deps.access.dashboard(caller, q.level, q.scopeId);
            return dashboard(deps.db, deps.metrics, q);
          });
          return "error" in r
            ? { query, error: r.error }
            : { query, dashboard: dashboardMsg(r.ok) };
        }),
      ),
    })),
    exportPerformanceReport: handler(async (req, { caller }) => {
      const { request, format } = exportRequestOf(req);
      await deps.access.dashboard(caller, request.level, request.scopeId);
      const report = await performanceReport(deps.db, deps.metrics, request);
      const xlsx = format === "XLSX";
      return {
        content: xlsx ? await reportXlsx(report) : await reportCsv(report),
        fileName: reportFileName(request, report.definitionVersion, format),
        contentType: xlsx
          ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          : "text/csv; charset=utf-8",
        definitionVersion: report.definitionVersion,
        asOf: request.asOf,
      };
    }),
  };
}
