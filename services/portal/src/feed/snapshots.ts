import { createHash } from "node:crypto";
import type { QueryFn } from "@otmetka/projections";
import type { PupilPerformanceData, WorkProgrammeData } from "../contract/schemas.js";
import {
  type AbsenceRow,
  type ExemptionRow,
  type MarkRow,
  performanceSnapshot,
  type TermMarkRow,
} from "./marks.js";

const q = (schema: string, table: string) => `"${schema}".${table}`;

export async function programmeSnapshot(
  query: QueryFn,
  schema: string,
  programmeId: string,
): Promise<WorkProgrammeData | null> {
  const p = (
    await query(`SELECT * FROM ${q(schema, "programmes")} WHERE programme_id = $1`, [programmeId])
  ).rows[0];
  if (!p) return null;
  const v = (
    await query(
      `SELECT items FROM ${q(schema, "programme_versions")} WHERE programme_id = $1 AND version = $2`,
      [programmeId, p.version],
    )
  ).rows[0];
  const items = (v?.items ?? []) as { itemId?: string; topic?: string; hours?: number }[];
  const delivered = new Map<string, number>();
  const rows = await query(
    `SELECT item_id, lessons FROM ${q(schema, "delivery")}
     WHERE school_id = $1 AND academic_year = $2 AND subject_id = $3 AND grade_level = $4`,
    [p.school_id, p.academic_year, p.subject_id, p.grade_level],
  );
  for (const r of rows.rows) delivered.set(String(r.item_id), Number(r.lessons));
  const topics = items.map((i) => ({
    itemId: i.itemId ?? "",
    topic: i.topic ?? "",
    hours: i.hours ?? 0,
    deliveredLessons: delivered.get(i.itemId ?? "") ?? 0,
  }));
  return {
    programmeId,
    schoolId: String(p.school_id),
    municipalityId: String(p.municipality_id),
    academicYear: Number(p.academic_year),
    subjectId: String(p.subject_id),
    gradeLevel: Number(p.grade_level),
    version: Number(p.version),
    topics,
    totalHours: topics.reduce((s, x) => s + x.hours, 0),
    deliveredLessons: topics.reduce((s, x) => s + x.deliveredLessons, 0),
  };
}

export interface PublishablePupil {
  person_id: string;
  portal_id: string;
  school_id: string;
  municipality_id: string;
  academic_year: number;
}

/** Snapshots of several pupils with four queries (the debouncer's batch). */
export async function pupilSnapshots(
  query: QueryFn,
  schema: string,
  pupils: PublishablePupil[],
  asOf: Date,
): Promise<Map<string, PupilPerformanceData>> {
  const ids = pupils.map((p) => p.person_id);
  const group = async <T>(table: string, cols: string) => {
    const by = new Map<string, T[]>();
    const r = await query(
      `SELECT student_id, ${cols} FROM ${q(schema, table)} WHERE student_id = ANY($1)`,
      [ids],
    );
    for (const row of r.rows) {
      const list = by.get(String(row.student_id)) ?? [];
      list.push(row as T);
      by.set(String(row.student_id), list);
    }
    return by;
  };
  const marks = await group<MarkRow>("marks", "subject_id, term, mark, weight, seq::float8 AS seq");
  const terms = await group<TermMarkRow>("term_marks", "subject_id, term, mark");
  const absences = await group<AbsenceRow>("absences", "missed, excused, late");
  const exemptions = await group<ExemptionRow>("exemptions", "subject_id, first_day, last_day");
  const out = new Map<string, PupilPerformanceData>();
  for (const p of pupils) {
    out.set(
      p.person_id,
      performanceSnapshot({
        portalId: p.portal_id,
        schoolId: p.school_id,
        municipalityId: p.municipality_id,
        academicYear: p.academic_year,
        marks: marks.get(p.person_id) ?? [],
        termMarks: terms.get(p.person_id) ?? [],
        absences: absences.get(p.person_id) ?? [],
        exemptions: exemptions.get(p.person_id) ?? [],
        asOf,
      }),
    );
  }
  return out;
}

/**
 * What a re-check compares: the snapshot without its time (`asOf`). Both sides come from the
 * same builder, so the JSON's key order is the same.
 */
export function snapshotDigest(data: PupilPerformanceData): string {
  return createHash("sha256")
    .update(JSON.stringify({ ...data, asOf: "" }))
    .digest("base64url");
}
