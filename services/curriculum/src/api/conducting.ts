import { type Caller, hasRole, requireRole } from "@otmetka/service-kit";
import type { CurriculumDeps } from "../commands/deps.js";
import { lessonTeachers } from "../commands/lessons.js";
import { type Access, denied, MANAGE } from "./access.js";

/**
 * Who conducts a lesson, as far as the caller may say: a school admin records any lesson
 * (naming who taught, default the scheduled teacher); a teacher only a lesson they teach on
 * its date (the scheduled teacher or a substitute), and only as themselves.
 */
export async function conductingPerson(
  deps: CurriculumDeps,
  access: Access,
  caller: Caller,
  req: {
    schoolId: string;
    startYear: number;
    classGroupId: string;
    lessonId: string;
    conductedBy: string;
  },
): Promise<string> {
  const target = await access.lessonSchool(req.schoolId, req.classGroupId);
  if (MANAGE.some((r) => hasRole(caller, r, target))) return req.conductedBy;
  requireRole(caller, ["TEACHER", ...MANAGE], target);
  const me = caller.personId ?? "";
  if (req.conductedBy !== "" && req.conductedBy !== me)
    throw denied("conducted_by", "a teacher records only the lessons they teach themselves");
  const { lesson, teachers } = await lessonTeachers(deps, req);
  // An unknown lesson is left to the command (NOT_FOUND lesson_id).
  if (lesson && !teachers.has(me))
    throw denied(
      "lesson_id",
      `lesson ${req.lessonId} is taught by ${lesson.teacherId}; only its teacher, a substitute or a school admin conducts it`,
    );
  return me;
}
