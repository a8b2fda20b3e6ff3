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
    const r = rows[0];
    return (
      r && {
        classGroupId: r.class_group_id,
        schoolId: r.school_id,
        startYear: r.start_year,
        gradeLevel: r.grade_level,
        letter: r.letter,
        closed: r.closed,
      }
    );
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
