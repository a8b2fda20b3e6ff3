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
import { type Logger, unaryHandler } from "@otmetka/service-kit";
import { loadCalendar, runCalendarCommand } from "../commands/calendar.js";
import type { CurriculumDeps } from "../commands/deps.js";
import {
  cancelLesson,
  classGroupLessons,
  conductLesson,
  generateLessons,
  moveLesson,
  teacherDay,
} from "../commands/lessons.js";
import { getStudyPlan, setStudyPlanHours } from "../commands/study-plans.js";
import { addSubject, listSubjects } from "../commands/subjects.js";
import {
  addTimetableSlot,
  assignSubstitute,
  assignTeacher,
  endTimetableSlot,
  loadTimetable,
} from "../commands/timetable.js";
import {
  approveWorkProgramme,
  draftWorkProgramme,
  getWorkProgramme,
  workProgrammeDelivery,
} from "../commands/work-programmes.js";
import { civilDate } from "../domain/civil-date.js";
import type { TermSystemDefined } from "../domain/events.js";
import type { Lesson } from "../domain/lessons.js";
import { callContext } from "./call-context.js";

/**
 * The request's academic year for a command. A missing year passes as undefined, typed as a
 * number only here: every command checks it with checkStartYear and answers INVALID_ARGUMENT.
 */
const startYearOf = (req: { academicYear?: { startYear: number } | undefined }) =>
  req.academicYear?.startYear as number;

/** gRPC handlers: map proto <-> domain; every rule lives in the domain. */
export function createCurriculumService(
  deps: CurriculumDeps,
  logger: Logger,
): CurriculumServiceServer {
  return {
    defineAcademicYear: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    defineTermSystem: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    declareNonSchoolDays: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    getAcademicCalendar: unaryHandler(logger, async (req) => {
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
      };
    }),
    addSubject: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { subjectId: result.subjectId, replayed };
    }),
    listSubjects: unaryHandler(logger, async (req) => {
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
    assignTeacher: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { assignmentId: result.assignmentId, replayed };
    }),
    assignSubstitute: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    addTimetableSlot: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { slotId: result.slotId, replayed };
    }),
    endTimetableSlot: unaryHandler(logger, async (req, md) => {
      const { replayed } = await endTimetableSlot(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          slotId: req.slotId,
          lastDay: req.lastDay,
        },
        callContext(md),
      );
      return { replayed };
    }),
    getTimetable: unaryHandler(logger, async (req) => {
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
        })),
      };
    }),
    generateLessons: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { ...result, replayed };
    }),
    conductLesson: unaryHandler(logger, async (req, md) => {
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
          conductedBy: req.conductedBy,
        },
        callContext(md),
      );
      return { replayed };
    }),
    cancelLesson: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    moveLesson: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    listClassGroupLessons: unaryHandler(logger, async (req) => {
      const lessons = await classGroupLessons(
        deps,
        req.classGroupId,
        startYearOf(req),
        req.fromDate,
        req.toDate,
      );
      return { lessons: lessons.map(lessonOut) };
    }),
    draftWorkProgramme: unaryHandler(logger, async (req, md) => {
      const { result, replayed } = await draftWorkProgramme(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          subjectId: req.subjectId,
          gradeLevel: req.gradeLevel,
          items: req.items.map((i) => ({ topic: i.topic, hours: i.hours })),
          authorId: req.authorId,
        },
        callContext(md),
      );
      return { version: result.version, replayed };
    }),
    approveWorkProgramme: unaryHandler(logger, async (req, md) => {
      const { replayed } = await approveWorkProgramme(
        deps,
        req.commandId,
        {
          schoolId: req.schoolId,
          startYear: startYearOf(req),
          subjectId: req.subjectId,
          gradeLevel: req.gradeLevel,
          version: req.version,
          approvedBy: req.approvedBy,
        },
        callContext(md),
      );
      return { replayed };
    }),
    getWorkProgramme: unaryHandler(logger, async (req) => {
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
    getWorkProgrammeDelivery: unaryHandler(logger, async (req) =>
      workProgrammeDelivery(deps, {
        schoolId: req.schoolId,
        startYear: startYearOf(req),
        subjectId: req.subjectId,
        classGroupId: req.classGroupId,
        asOf: req.asOf,
      }),
    ),
    getTeacherDay: unaryHandler(logger, async (req) => {
      const lessons = await teacherDay(deps, {
        schoolId: req.schoolId,
        startYear: startYearOf(req),
        teacherId: req.teacherId,
        date: req.date,
      });
      return { lessons: lessons.map(lessonOut) };
    }),
    setStudyPlanHours: unaryHandler(logger, async (req, md) => {
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
        callContext(md),
      );
      return { replayed };
    }),
    getStudyPlan: unaryHandler(logger, async (req) => {
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

function lessonOut(l: Lesson) {
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
