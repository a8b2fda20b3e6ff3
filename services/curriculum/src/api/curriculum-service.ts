import {
  gradingFromJSON,
  gradingToJSON,
  nonSchoolDayKindFromJSON,
  nonSchoolDayKindToJSON,
  termKindFromJSON,
  termKindToJSON,
} from "@otmetka/proto/curriculum/events/v1/events";
import type { CurriculumServiceServer } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { LessonStatus } from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
  type AuthorizedCall,
  authorizedHandler,
  type CallerVerifier,
  civilDate,
  type Logger,
  requireRole,
} from "@otmetka/service-kit";
import { loadCalendar, runCalendarCommand, setGradeWeekLength } from "../commands/calendar.js";
import type { CurriculumDeps } from "../commands/deps.js";
import { cancelLesson, conductLesson, generateLessons, moveLesson } from "../commands/lessons.js";
import { getStudyPlan, setStudyPlanHours, studyPlanCoverage } from "../commands/study-plans.js";
import { addSubject, listSubjects } from "../commands/subjects.js";
import {
  addTimetableSlot,
  assignSubstitute,
  assignTeacher,
  endTeacherAssignment,
  endTimetableSlot,
  loadTimetable,
} from "../commands/timetable.js";
import {
  approveWorkProgramme,
  draftWorkProgramme,
  getWorkProgramme,
  workProgrammeDelivery,
} from "../commands/work-programmes.js";
import type { TermSystemDefined } from "../domain/events.js";
import { gradeDaysPerWeek } from "../domain/week-length.js";
import type { LessonRow, LessonsReader } from "../projections/lessons-queries.js";
import {
  Access,
  APPROVE,
  actingPerson,
  contextOf,
  DRAFT,
  denied,
  MANAGE,
  READ,
  REGIONAL,
} from "./access.js";
import { conductingPerson } from "./conducting.js";
import { readablePeriods, requireSchoolSubjectsReader, within } from "./pupil-access.js";
import { checkRequestStrings } from "./request-input.js";

/**
 * The request's academic year for a command. A missing year passes as undefined, typed as a
 * number only here: every command checks it with checkStartYear and answers INVALID_ARGUMENT.
 */
const startYearOf = (req: { academicYear?: { startYear: number } | undefined }) =>
  req.academicYear?.startYear as number;

/**
 * gRPC handlers: verify the caller and check their role over the school the call touches
 * (src/api/access.ts), then map proto <-> domain; every rule lives in the domain.
 */
export function createCurriculumService(
  deps: CurriculumDeps & { lessons: LessonsReader },
  auth: { verifier: CallerVerifier; regionId: string },
  logger: Logger,
): CurriculumServiceServer {
  const access = new Access(deps.facts, auth.regionId);
  const handler = <Req, Res>(handle: (req: Req, call: AuthorizedCall) => Promise<Res>) =>
    authorizedHandler<Req, Res>(logger, auth.verifier, async (req, call) => {
      // NUL, huge ids or texts are INVALID_ARGUMENT before any read or write uses them.
      checkRequestStrings(req);
      return handle(req, call);
    });
  const manage = async (call: AuthorizedCall, schoolId: string) =>
    requireRole(call.caller, MANAGE, await access.school(schoolId));
  const read = async (call: AuthorizedCall, schoolId: string) =>
    requireRole(call.caller, READ, await access.school(schoolId));
  return {
    defineAcademicYear: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await runCalendarCommand(
        deps,
        req.commandId,
        {
          kind: "DefineAcademicYear",
          schoolId: req.schoolId,
          municipalityId: req.municipalityId,
          startYear: startYearOf(req),
          firstDay: req.firstDay,
          lastDay: req.lastDay,
          daysPerWeek: req.daysPerWeek,
          timeZone: req.timeZone,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    defineTermSystem: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await runCalendarCommand(
        deps,
        req.commandId,
        {
          kind: "DefineTermSystem",
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          gradeLevels: req.gradeLevels,
          termKind: termKindToJSON(req.kind),
          terms: req.terms,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    declareNonSchoolDays: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await runCalendarCommand(
        deps,
        req.commandId,
        {
          kind: "DeclareNonSchoolDays",
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          firstDay: req.firstDay,
          lastDay: req.lastDay,
          dayKind: nonSchoolDayKindToJSON(req.kind),
          name: req.name,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    setGradeWeekLength: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await setGradeWeekLength(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          gradeLevels: req.gradeLevels,
          daysPerWeek: req.daysPerWeek,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    getAcademicCalendar: handler(async (req, call) => {
      await read(call, req.schoolId);
      const state = await loadCalendar(deps, req.schoolId, startYearOf(req));
      const year = state.year;
      if (!year)
        return {
          firstDay: "",
          lastDay: "",
          daysPerWeek: 0,
          timeZone: "",
          termSystems: [],
          nonSchoolDays: [],
          gradeWeekLengths: [],
        };
      const systems = [...new Set<TermSystemDefined>(state.termSystems.values())];
      return {
        firstDay: year.firstDay,
        lastDay: year.lastDay,
        daysPerWeek: year.daysPerWeek,
        timeZone: year.timeZone,
        // A system replaced for some grades answers only for the grades it still governs.
        termSystems: systems.map((s) => ({
          gradeLevels: s.gradeLevels.filter((g) => state.termSystems.get(g) === s),
          kind: termKindFromJSON(s.kind),
          terms: s.terms,
        })),
        nonSchoolDays: [...state.nonSchoolDays]
          .sort((a, b) => a.firstDay.localeCompare(b.firstDay))
          .map((d) => ({
            firstDay: d.firstDay,
            lastDay: d.lastDay,
            kind: nonSchoolDayKindFromJSON(d.kind),
            name: d.name,
          })),
        gradeWeekLengths: Array.from({ length: 11 }, (_, i) => ({
          gradeLevel: i + 1,
          daysPerWeek: gradeDaysPerWeek(year, state.weekLengths, i + 1),
        })),
      };
    }),
    addSubject: handler(async (req, call) => {
      // A regional subject (no school) is the ministry's; a school's own, the school's.
      if (req.schoolId === "") requireRole(call.caller, REGIONAL, access.region());
      else await manage(call, req.schoolId);
      const { result, replayed } = await addSubject(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          municipalityId: req.municipalityId,
          code: req.code,
          name: req.name,
          grading: gradingToJSON(req.grading),
        },
        contextOf(call),
      );
      return { subjectId: result.subjectId, replayed };
    }),
    listSubjects: handler(async (req, call) => {
      // The regional catalogue is open to every verified caller; a school's additions to its
      // staff, officers above it, and its pupils and their guardians (their diaries name them).
      if (req.schoolId !== "")
        await requireSchoolSubjectsReader(
          deps.facts,
          call.caller,
          await access.school(req.schoolId),
        );
      const subjects = await listSubjects(deps, req.schoolId);
      return {
        subjects: subjects.map((s) => ({
          subjectId: s.subjectId,
          code: s.code,
          name: s.name,
          grading: gradingFromJSON(s.grading),
          schoolId: s.schoolId,
        })),
      };
    }),
    assignTeacher: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { result, replayed } = await assignTeacher(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          teacherId: req.teacherId,
          subjectId: req.subjectId,
          classGroupId: req.classGroupId,
          subgroupId: req.subgroupId,
        },
        contextOf(call),
      );
      return { assignmentId: result.assignmentId, replayed };
    }),
    endTeacherAssignment: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await endTeacherAssignment(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          assignmentId: req.assignmentId,
          lastDay: req.lastDay,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    assignSubstitute: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { startYear, ...rest } = { ...req, startYear: startYearOf(req) };
      const { replayed } = await assignSubstitute(
        deps,
        req.commandId,
        {
          schoolId: rest.schoolId,
          startYear,
          assignmentId: rest.assignmentId,
          substituteId: rest.substituteId,
          firstDay: rest.firstDay,
          lastDay: rest.lastDay,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    addTimetableSlot: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { result, replayed } = await addTimetableSlot(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          weekday: req.weekday,
          period: req.period,
          classGroupId: req.classGroupId,
          subgroupId: req.subgroupId,
          subjectId: req.subjectId,
          teacherId: req.teacherId,
          room: req.room,
          validFrom: req.validFrom,
          validTo: req.validTo,
        },
        contextOf(call),
      );
      return { slotId: result.slotId, replayed };
    }),
    endTimetableSlot: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await endTimetableSlot(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          slotId: req.slotId,
          lastDay: req.lastDay,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    getTimetable: handler(async (req, call) => {
      await read(call, req.schoolId);
      const state = await loadTimetable(deps, req.schoolId, startYearOf(req));
      const on = req.onDate === "" ? undefined : civilDate("on_date", req.onDate);
      const slots = [...state.slots.values()]
        .filter((s) => s.validFrom <= s.validTo)
        .filter((s) => req.classGroupId === "" || s.classGroupId === req.classGroupId)
        .filter((s) => req.teacherId === "" || s.teacherId === req.teacherId)
        .filter((s) => on === undefined || (s.validFrom <= on && on <= s.validTo))
        .sort(
          (a, b) =>
            a.weekday - b.weekday ||
            a.period - b.period ||
            a.classGroupId.localeCompare(b.classGroupId),
        );
      const assignments = [...state.assignments.values()]
        .filter((a) => req.classGroupId === "" || a.classGroupId === req.classGroupId)
        .filter((a) => req.teacherId === "" || a.teacherId === req.teacherId);
      return {
        slots: slots.map((s) => ({
          slotId: s.slotId,
          weekday: s.weekday,
          period: s.period,
          classGroupId: s.classGroupId,
          subgroupId: s.subgroupId,
          subjectId: s.subjectId,
          teacherId: s.teacherId,
          room: s.room,
          validFrom: s.validFrom,
          validTo: s.validTo,
        })),
        assignments: assignments.map((a) => ({
          assignmentId: a.assignmentId,
          teacherId: a.teacherId,
          subjectId: a.subjectId,
          classGroupId: a.classGroupId,
          subgroupId: a.subgroupId,
          lastDay: a.lastDay ?? "",
        })),
      };
    }),
    generateLessons: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { result, replayed } = await generateLessons(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          from: req.fromDate,
          to: req.toDate,
          classGroupIds: req.classGroupIds,
        },
        contextOf(call),
      );
      return { ...result, replayed };
    }),
    conductLesson: handler(async (req, call) => {
      const conductedBy = await conductingPerson(deps, access, call.caller, {
        ...req,
        startYear: startYearOf(req),
      });
      const { replayed } = await conductLesson(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          classGroupId: req.classGroupId,
          lessonId: req.lessonId,
          topic: req.topic,
          workProgrammeItemId: req.workProgrammeItemId,
          homework: req.homework,
          homeworkDue: req.homeworkDue,
          conductedBy,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    cancelLesson: handler(async (req, call) => {
      requireRole(call.caller, MANAGE, await access.lessonSchool(req.schoolId, req.classGroupId));
      const { replayed } = await cancelLesson(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          classGroupId: req.classGroupId,
          lessonId: req.lessonId,
          reason: req.reason,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    moveLesson: handler(async (req, call) => {
      requireRole(call.caller, MANAGE, await access.lessonSchool(req.schoolId, req.classGroupId));
      const { replayed } = await moveLesson(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          classGroupId: req.classGroupId,
          lessonId: req.lessonId,
          toDate: req.toDate,
          toPeriod: req.toPeriod,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    listClassGroupLessons: handler(async (req, call) => {
      const periods = await readablePeriods(
        deps.facts,
        call.caller,
        req.classGroupId,
        await access.classGroup(req.classGroupId),
      );
      const lessons = await deps.lessons.classGroupLessons(
        req.classGroupId,
        startYearOf(req),
        req.fromDate,
        req.toDate,
      );
      // A pupil (or their guardian) sees only the days the pupil was in the class group.
      const visible = periods ? lessons.filter((l) => within(periods, l.date)) : lessons;
      return { lessons: visible.map(lessonOut) };
    }),
    draftWorkProgramme: handler(async (req, call) => {
      const target = await access.school(req.schoolId);
      requireRole(call.caller, DRAFT, target);
      const authorId = actingPerson(call.caller, req.authorId, "author_id", target);
      const { result, replayed } = await draftWorkProgramme(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          subjectId: req.subjectId,
          gradeLevel: req.gradeLevel,
          items: req.items.map((i) => ({ topic: i.topic, hours: i.hours })),
          authorId,
        },
        contextOf(call),
      );
      return { version: result.version, replayed };
    }),
    approveWorkProgramme: handler(async (req, call) => {
      requireRole(call.caller, APPROVE, await access.school(req.schoolId));
      // The approver is the admin who calls, never a name in the request.
      const approvedBy = call.caller.personId ?? "";
      if (req.approvedBy !== "" && req.approvedBy !== approvedBy)
        throw denied("approved_by", "the approver is the calling school admin");
      const { replayed } = await approveWorkProgramme(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          subjectId: req.subjectId,
          gradeLevel: req.gradeLevel,
          version: req.version,
          approvedBy,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    getWorkProgramme: handler(async (req, call) => {
      await read(call, req.schoolId);
      const { version, versions } = await getWorkProgramme(
        deps,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          subjectId: req.subjectId,
          gradeLevel: req.gradeLevel,
        },
        req.version,
      );
      return {
        version: version.version,
        versions,
        items: version.items,
        authorId: version.authorId,
        approvedBy: version.approvedBy ?? "",
      };
    }),
    getWorkProgrammeDelivery: handler(async (req, call) => {
      await read(call, req.schoolId);
      return workProgrammeDelivery(deps, {
        schoolId: req.schoolId,
        startYear: startYearOf(req),
        subjectId: req.subjectId,
        classGroupId: req.classGroupId,
        asOf: req.asOf,
        subgroupId: req.subgroupId,
      });
    }),
    getTeacherDay: handler(async (req, call) => {
      await read(call, req.schoolId);
      const lessons = await deps.lessons.teacherDay({
        schoolId: req.schoolId,
        startYear: startYearOf(req),
        teacherId: req.teacherId,
        date: req.date,
      });
      return { lessons: lessons.map(lessonOut) };
    }),
    setStudyPlanHours: handler(async (req, call) => {
      await manage(call, req.schoolId);
      const { replayed } = await setStudyPlanHours(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          gradeLevel: req.gradeLevel,
          subjectId: req.subjectId,
          hoursPerWeek: req.hoursPerWeek,
        },
        contextOf(call),
      );
      return { replayed };
    }),
    getStudyPlanCoverage: handler(async (req, call) => {
      await read(call, req.schoolId);
      return studyPlanCoverage(deps, {
        schoolId: req.schoolId,
        startYear: startYearOf(req),
        onDate: req.onDate,
      });
    }),
    getStudyPlan: handler(async (req, call) => {
      await read(call, req.schoolId);
      const entries = await getStudyPlan(deps, req.schoolId, startYearOf(req));
      return {
        entries: entries.map((e) => ({
          gradeLevel: e.gradeLevel,
          subjectId: e.subjectId,
          hoursPerWeek: e.hoursPerWeek,
        })),
      };
    }),
  };
}

const STATUS = {
  scheduled: LessonStatus.LESSON_STATUS_SCHEDULED,
  conducted: LessonStatus.LESSON_STATUS_CONDUCTED,
  cancelled: LessonStatus.LESSON_STATUS_CANCELLED,
  unscheduled: LessonStatus.LESSON_STATUS_UNSPECIFIED,
};

function lessonOut(l: LessonRow) {
  return {
    lessonId: l.lessonId,
    classGroupId: l.classGroupId,
    date: l.date,
    period: l.period,
    term: l.term,
    subgroupId: l.subgroupId,
    subjectId: l.subjectId,
    teacherId: l.teacherId,
    room: l.room,
    status: STATUS[l.status],
    moved: l.moved,
    topic: l.topic ?? "",
    homework: l.homework ?? "",
    homeworkDue: l.homeworkDue ?? "",
    conductedBy: l.conductedBy ?? "",
  };
}
