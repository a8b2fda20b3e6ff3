import type pg from "pg";
import { IDENTITY_FACTS_SCHEMA as S } from "./identity-facts.js";

export interface SchoolFact {
  schoolId: string;
  municipalityId: string;
  timeZone: string;
  closedOn: string | null;
}
export interface ClassGroupFact {
  classGroupId: string;
  schoolId: string;
  startYear: number;
  gradeLevel: number;
  letter: string;
  closed: boolean;
}
export interface SubgroupFact {
  subgroupId: string;
  classGroupId: string;
  subjectId: string;
  name: string;
}

/** What commands ask of identity's facts; undefined / false when identity never said so. */
export interface IdentityFactsReader {
  school(schoolId: string): Promise<SchoolFact | undefined>;
  isStaff(schoolId: string, personId: string): Promise<boolean>;
  classGroup(classGroupId: string): Promise<ClassGroupFact | undefined>;
  subgroup(subgroupId: string): Promise<SubgroupFact | undefined>;
  /** A school's open class groups of a year. */
  classGroupsOf(schoolId: string, startYear: number): Promise<ClassGroupFact[]>;
  /** When these pupils belonged to the class group: [from, to), `to` null while they do. */
  enrolmentPeriods(personIds: readonly string[], classGroupId: string): Promise<Period[]>;
  /** The pupils a guardian is linked to. */
  wardsOf(guardianId: string): Promise<string[]>;
  /** Whether any of these pupils was ever enrolled in a class group of the school. */
  everEnrolledIn(personIds: readonly string[], schoolId: string): Promise<boolean>;
}

export interface Period {
  from: string;
  to: string | null;
}

/** The replica's reads, in PostgreSQL. */
export class IdentityFacts implements IdentityFactsReader {
  constructor(private readonly pool: pg.Pool) {}

  async school(schoolId: string): Promise<SchoolFact | undefined> {
    const { rows } = await this.pool.query(
      `SELECT school_id, municipality_id, time_zone, to_char(closed_on, 'YYYY-MM-DD') AS closed_on
       FROM ${S}.schools WHERE school_id = $1`,
      [schoolId],
    );
    const r = rows[0];
    return (
      r && {
        schoolId: r.school_id,
        municipalityId: r.municipality_id,
        timeZone: r.time_zone,
        closedOn: r.closed_on,
      }
    );
  }

  async isStaff(schoolId: string, personId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM ${S}.staff WHERE school_id = $1 AND person_id = $2 AND NOT erased`,
      [schoolId, personId],
    );
    return (rowCount ?? 0) > 0;
  }

  async classGroup(classGroupId: string): Promise<ClassGroupFact | undefined> {
    const { rows } = await this.pool.query(
      `SELECT * FROM ${S}.class_groups WHERE class_group_id = $1`,
      [classGroupId],
    );
    return rows[0] && classGroupOf(rows[0]);
  }

  async classGroupsOf(schoolId: string, startYear: number): Promise<ClassGroupFact[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM ${S}.class_groups WHERE school_id = $1 AND start_year = $2 AND NOT closed
       ORDER BY grade_level, letter`,
      [schoolId, startYear],
    );
    return rows.map(classGroupOf);
  }

  async enrolmentPeriods(personIds: readonly string[], classGroupId: string): Promise<Period[]> {
    if (personIds.length === 0) return [];
    const { rows } = await this.pool.query(
      `SELECT from_date, to_date FROM ${S}.enrollments
       WHERE person_id = ANY($1) AND class_group_id = $2 ORDER BY from_date`,
      [personIds, classGroupId],
    );
    return rows.map((r) => ({ from: r.from_date, to: r.to_date }));
  }

  async wardsOf(guardianId: string): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT person_id FROM ${S}.guardians WHERE guardian_id = $1`,
      [guardianId],
    );
    return rows.map((r) => r.person_id);
  }

  async everEnrolledIn(personIds: readonly string[], schoolId: string): Promise<boolean> {
    if (personIds.length === 0) return false;
    const { rows } = await this.pool.query(
      `SELECT EXISTS (SELECT 1 FROM ${S}.enrollments e
         JOIN ${S}.class_groups c ON c.class_group_id = e.class_group_id
         WHERE e.person_id = ANY($1) AND c.school_id = $2) AS enrolled`,
      [personIds, schoolId],
    );
    return rows[0]?.enrolled === true;
  }

  async subgroup(subgroupId: string): Promise<SubgroupFact | undefined> {
    const { rows } = await this.pool.query(`SELECT * FROM ${S}.subgroups WHERE subgroup_id = $1`, [
      subgroupId,
    ]);
    const r = rows[0];
    return (
      r && {
        subgroupId: r.subgroup_id,
        classGroupId: r.class_group_id,
        subjectId: r.subject_id,
        name: r.name,
      }
    );
  }
}

function classGroupOf(r: Record<string, unknown>): ClassGroupFact {
  return {
    classGroupId: r.class_group_id as string,
    schoolId: r.school_id as string,
    startYear: r.start_year as number,
    gradeLevel: r.grade_level as number,
    letter: r.letter as string,
    closed: r.closed as boolean,
  };
}
