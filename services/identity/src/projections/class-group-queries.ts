import type { Queryable } from "@otmetka/eventstore";
import type { ClassGroup, Enrollment } from "@otmetka/proto/identity/v1/identity_service";

interface ClassGroupRow {
  class_group_id: string;
  school_id: string;
  municipality_id: string;
  academic_year: number;
  grade_level: number;
  letter: string;
  homeroom_teacher_id: string | null;
  closed: boolean;
}

/** Class groups by id, or of a school (in one academic year when given). */
export async function getClassGroups(
  db: Queryable,
  filter: { classGroupIds: string[]; schoolId: string; academicYear: number },
): Promise<ClassGroup[]> {
  const { rows } = await db.query<ClassGroupRow>(
    `SELECT * FROM class_groups
     WHERE ($1::uuid[] IS NULL OR class_group_id = ANY($1::uuid[]))
       AND ($2::uuid IS NULL OR school_id = $2::uuid)
       AND ($3::int IS NULL OR academic_year = $3::int)
     ORDER BY academic_year, grade_level, letter, class_group_id`,
    [
      filter.classGroupIds.length > 0 ? filter.classGroupIds : null,
      filter.schoolId || null,
      filter.academicYear || null,
    ],
  );
  return rows.map((r) => ({
    classGroupId: r.class_group_id,
    schoolId: r.school_id,
    municipalityId: r.municipality_id,
    academicYear: { startYear: r.academic_year },
    gradeLevel: r.grade_level,
    letter: r.letter,
    homeroomTeacherId: r.homeroom_teacher_id ?? "",
    closed: r.closed,
  }));
}

export async function getEnrollmentHistory(db: Queryable, personId: string): Promise<Enrollment[]> {
  const { rows } = await db.query<{
    class_group_id: string;
    school_id: string;
    valid_from: string;
    valid_to: string | null;
  }>(
    `SELECT class_group_id, school_id, to_char(valid_from, 'YYYY-MM-DD') AS valid_from,
            to_char(valid_to, 'YYYY-MM-DD') AS valid_to
     FROM enrollments WHERE person_id = $1 ORDER BY valid_from`,
    [personId],
  );
  return rows.map((r) => ({
    classGroupId: r.class_group_id,
    schoolId: r.school_id,
    validFrom: r.valid_from,
    validTo: r.valid_to ?? "",
  }));
}

/** Pupils in the class group on `date`: enrolled on or before it, not gone by it. */
export async function getRoster(
  db: Queryable,
  classGroupId: string,
  date: string,
): Promise<string[]> {
  const { rows } = await db.query<{ person_id: string }>(
    `SELECT person_id FROM enrollments
     WHERE class_group_id = $1 AND valid_from <= $2::date AND (valid_to IS NULL OR valid_to > $2::date)
     ORDER BY person_id`,
    [classGroupId, date],
  );
  return rows.map((r) => r.person_id);
}

/** A subgroup's class group, subject and name; undefined when unknown. */
export async function getSubgroup(
  db: Queryable,
  subgroupId: string,
): Promise<{ classGroupId: string; subjectId: string; name: string } | undefined> {
  const { rows } = await db.query<{ class_group_id: string; subject_id: string; name: string }>(
    "SELECT class_group_id, subject_id, name FROM subgroups WHERE subgroup_id = $1",
    [subgroupId],
  );
  const r = rows[0];
  return r && { classGroupId: r.class_group_id, subjectId: r.subject_id, name: r.name };
}

/** Members of the subgroup on `date`. */
export async function getSubgroupRoster(
  db: Queryable,
  subgroupId: string,
  date: string,
): Promise<string[]> {
  const { rows } = await db.query<{ person_id: string }>(
    `SELECT person_id FROM subgroup_members
     WHERE subgroup_id = $1 AND valid_from <= $2::date AND (valid_to IS NULL OR valid_to > $2::date)
     ORDER BY person_id`,
    [subgroupId, date],
  );
  return rows.map((r) => r.person_id);
}
