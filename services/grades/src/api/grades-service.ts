import {
  type AbsenceReason,
  absenceReasonToJSON,
  type MarkValue,
  markValueFromJSON,
  markValueToJSON,
} from "@otmetka/proto/grades/events/v1/events";
import type { GradesServiceServer } from "@otmetka/proto/grades/v1/grades_service";
import { authorizedHandler, type CallerVerifier, type Logger } from "@otmetka/service-kit";
import type { Call, GradesDeps } from "../commands/deps.js";
import {
  closeOrReopenTerm,
  correctOrRevokeMark,
  excuseAbsence,
  grantExemption,
  recordAttendance,
  recordMarks,
  setTermMark,
} from "../commands/journal.js";
import { markHistory, studentMarks } from "../commands/queries.js";
import { closeOrReopenSchoolTerm } from "../commands/school-terms.js";
import { setWorkTypeWeights } from "../commands/work-types.js";
import { checkRequestStrings } from "./request-strings.js";

const value = (v: MarkValue) => markValueToJSON(v);
const reason = (r: AbsenceReason) => absenceReasonToJSON(r);
const mark = (m: { studentId: string; value: MarkValue; workType: string; comment: string }) => ({
  studentId: m.studentId,
  value: value(m.value),
  workType: m.workType,
  comment: m.comment,
});

/** gRPC handlers: verify the caller, map proto <-> domain; every rule lives in the domain. */
export function createGradesService(
  deps: GradesDeps,
  verifier: CallerVerifier,
  logger: Logger,
): GradesServiceServer {
  /**
   * Every RPC, queries too: its strings are checked before any read or write
   * (request-strings.ts); NUL in a query's id failed in PostgreSQL as INTERNAL.
   */
  const handler = <Req, Res>(handle: (req: Req, call: Call) => Promise<Res>) =>
    authorizedHandler<Req, Res>(logger, verifier, async (req, call) => {
      checkRequestStrings(req);
      return handle(req, call);
    });
  return {
    recordMark: handler(async (req, call) => {
      const r = await recordMarks(
        deps,
        call,
        {
          commandId: req.commandId,
          journal: req.journal,
          lessonId: req.lessonId,
          marks: req.mark ? [mark(req.mark)] : [],
        },
        "mark",
      );
      return { replayed: r.replayed, markId: r.markIds[0] ?? "", weight: r.weights[0] ?? 0 };
    }),
    recordMarks: handler(async (req, call) => {
      const r = await recordMarks(deps, call, {
        commandId: req.commandId,
        journal: req.journal,
        lessonId: req.lessonId,
        marks: req.marks.map(mark),
      });
      return { replayed: r.replayed, markIds: r.markIds };
    }),
    correctMark: handler(async (req, call) => {
      const r = await correctOrRevokeMark(
        deps,
        call,
        { ...req, value: value(req.value) },
        "CorrectMark",
      );
      return { replayed: r.replayed };
    }),
    revokeMark: handler(async (req, call) => {
      const r = await correctOrRevokeMark(deps, call, req, "RevokeMark");
      return { replayed: r.replayed };
    }),
    grantExemption: handler(async (req, call) => {
      const r = await grantExemption(deps, call, req);
      return { replayed: r.replayed, exemptionId: r.exemptionId };
    }),
    recordAttendance: handler(async (req, call) => {
      const r = await recordAttendance(deps, call, {
        ...req,
        absences: req.absences.map((a) => ({ ...a, reason: reason(a.reason) })),
      });
      return { replayed: r.replayed };
    }),
    excuseAbsence: handler(async (req, call) => {
      const r = await excuseAbsence(deps, call, req);
      return { replayed: r.replayed };
    }),
    setTermMark: handler(async (req, call) => {
      const r = await setTermMark(deps, call, { ...req, value: value(req.value) });
      return { replayed: r.replayed, corrected: r.corrected, weightedAverage: r.weightedAverage };
    }),
    closeTerm: handler(async (req, call) => {
      if (!req.journal && req.schoolId !== "") {
        const startYear = req.academicYear?.startYear ?? 0;
        return closeOrReopenSchoolTerm(deps, call, { ...req, startYear }, "CloseTerm");
      }
      const r = await closeOrReopenTerm(deps, call, req, "CloseTerm");
      return { replayed: r.replayed, journals: 1, unchanged: 0 };
    }),
    reopenTerm: handler(async (req, call) => {
      if (!req.journal && req.schoolId !== "") {
        const startYear = req.academicYear?.startYear ?? 0;
        return closeOrReopenSchoolTerm(deps, call, { ...req, startYear }, "ReopenTerm");
      }
      const r = await closeOrReopenTerm(deps, call, req, "ReopenTerm");
      return { replayed: r.replayed, journals: 1, unchanged: 0 };
    }),
    setWorkTypeWeights: handler((req, call) => setWorkTypeWeights(deps, call, req)),
    getMarkHistory: handler(async (req, call) => {
      const h = await markHistory(deps, call, req);
      return {
        ...h,
        changes: h.changes.map((c) => ({ ...c, value: c.value ? markValueFromJSON(c.value) : 0 })),
      };
    }),
    listStudentMarks: handler(async (req, call) => {
      const r = await studentMarks(deps, call, req);
      return {
        weightedAverage: r.weightedAverage,
        marks: r.marks.map((m) => ({ ...m, value: markValueFromJSON(m.value) })),
      };
    }),
  };
}
