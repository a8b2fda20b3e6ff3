import { invalidInput } from "../domain/errors.js";
import type { MetricsConfig, ResultBasis } from "../domain/metrics/definitions.js";
import type { Figure } from "../domain/metrics/figure.js";
import { roundedRatio } from "../domain/metrics/rounding.js";
import { ALL_SUBJECTS } from "../projections/deltas.js";
import { type AsOfMode, type Dashboard, dashboard } from "../queries/dashboards.js";
import type { ReadDb } from "../queries/read-db.js";
import { periodName, type TermSystem } from "./period-name.js";

/** The statutory "performance and quality" report (успеваемость и качество знаний). */
export interface ReportRequest {
  readonly level: "SCHOOL" | "MUNICIPALITY";
  readonly scopeId: string;
  readonly startYear: number;
  /** 1-4 (a school only) or 0 for the year. */
  readonly term: number;
  readonly asOf: string;
  readonly mode?: AsOfMode | undefined;
  readonly definitionVersion?: number | undefined;
  readonly basis?: ResultBasis | undefined;
}

export interface ReportRow {
  /** A subject id (school report) or a school id (municipality report); "" for the total. */
  readonly unit: string;
  /** The subject's or school's name; "" for the total or while no event has named it. */
  readonly name: string;
  readonly dashboard: Dashboard;
}

export interface PerformanceReport {
  readonly request: ReportRequest;
  /** The school's or municipality's name; "" while no event has named it. */
  readonly scopeName: string;
  /** «1 четверть», «2 триместр», «1 полугодие» by the school's term system, or «учебный год». */
  readonly periodName: string;
  readonly definitionVersion: number;
  /** Every figure definition the report's numbers come from. */
  readonly definitions: readonly string[];
  readonly rows: readonly ReportRow[];
  readonly total: ReportRow;
}

/**
 * One row per subject of a school (its all-subjects total last) or per school of a
 * municipality (all subjects; the municipality's total last), each row the dashboard of
 * that unit, so the report's figures are the dashboard's by construction. The caller has
 * checked the scope and that it exists, as for a dashboard (api/access.ts).
 */
export async function performanceReport(
  db: ReadDb,
  config: MetricsConfig,
  r: ReportRequest,
): Promise<PerformanceReport> {
  if (r.level !== "SCHOOL" && r.level !== "MUNICIPALITY")
    throw invalidInput("level", "the report is made for a SCHOOL or a MUNICIPALITY");
  if (r.term !== 0 && r.level !== "SCHOOL")
    throw invalidInput("period.term", "a term is a period only within one school (use the year)");
  // Names for the reader, ids for machines; a unit not yet named sorts last.
  const units =
    r.level === "SCHOOL"
      ? await db.rows<{ id: string; name: string }>(
          `SELECT u.id, coalesce(s.name, '') AS name
             FROM (SELECT DISTINCT subject_id AS id FROM $S.perf WHERE level = 'SCHOOL' AND scope_id = $1
                     AND start_year = $2 AND subject_id <> '*') u
             LEFT JOIN $S.subjects s ON s.subject_id = u.id
            ORDER BY coalesce(s.name, '') = '', 2, 1`,
          [r.scopeId, r.startYear],
        )
      : await db.rows<{ id: string; name: string }>(
          `SELECT school_id AS id, name FROM $S.schools WHERE municipality_id = $1
            ORDER BY name = '', name, school_id`,
          [r.scopeId],
        );
  const [scope] = await db.rows<{ name: string }>(
    r.level === "SCHOOL"
      ? "SELECT name FROM $S.schools WHERE school_id = $1"
      : "SELECT name FROM $S.municipalities WHERE municipality_id = $1",
    [r.scopeId],
  );
  const dash = (level: "SCHOOL" | "MUNICIPALITY", scopeId: string, subjectId: string) =>
    dashboard(db, config, {
      level,
      scopeId,
      startYear: r.startYear,
      subjectId,
      period: r.term === 0 ? { kind: "YEAR" } : { kind: "TERM", term: r.term },
      asOf: r.asOf,
      basis: r.basis,
      mode: r.mode,
      definitionVersion: r.definitionVersion,
    });
  const rows = await Promise.all(
    units.map(async (u) => ({
      unit: u.id,
      name: u.name,
      dashboard:
        r.level === "SCHOOL"
          ? await dash("SCHOOL", r.scopeId, u.id)
          : await dash("SCHOOL", u.id, ALL_SUBJECTS),
    })),
  );
  const total = { unit: "", name: "", dashboard: await dash(r.level, r.scopeId, ALL_SUBJECTS) };
  // After the dashboards, which refuse a term the school does not define.
  const systems =
    r.term === 0
      ? []
      : await db.rows<TermSystem>(
          `SELECT kind, count(*)::int AS terms FROM $S.terms WHERE school_id = $1 AND start_year = $2
            GROUP BY grade_level, kind HAVING bool_or(term = $3)`,
          [r.scopeId, r.startYear, r.term],
        );
  // The definitions of the figures the table shows (a subject row's and an all-subjects row's differ).
  const definitions = new Set<string>();
  for (const row of [...rows, total]) {
    const h = headline(row.dashboard);
    const p = row.dashboard.performance;
    if (!h || !p) continue;
    for (const f of [h.pupils, h.pass, h.quality, p.degreeOfLearning, p.average, p.weightedAverage])
      definitions.add(f.definition);
  }
  return {
    request: r,
    scopeName: scope?.name ?? "",
    periodName: periodName(r.term, systems),
    definitionVersion: total.dashboard.definitionVersion,
    definitions: [...definitions],
    rows,
    total,
  };
}

// Half up on the figure's integers (roundedRatio): 169 / 40 is 4.23, as counted by hand.
const percent = (f: Figure | undefined) =>
  f?.value == null ? null : roundedRatio(f.numerator, f.denominator, 1, 100);
const round2 = (f: Figure | undefined) =>
  f?.value == null ? null : roundedRatio(f.numerator, f.denominator, 2);

const FIGURE_COLUMNS = [
  "Учащихся (N)",
  "Успеваемость, %",
  "Качество знаний, %",
  "СОУ, %",
  "Средний балл",
  "Средневзвешенный балл",
  "«5»",
  "«4»",
  "«3»",
  "«2» и «1»",
  "Зачёт",
  "Незачёт",
  "н/а",
] as const;

/**
 * A row's pupil count, pass rate and quality as its dashboard defines them: one subject's from
 * its performance; all subjects' per pupil (domain.md: pupils with no 2 or н/а in any subject)
 * from its all-subjects figures, so a school's N is its pupils, not pupil-subject results
 * summed. Quality is the dashboard's headline (the configured variant; per pupil over all
 * subjects, the pupils with only 4 and 5).
 */
function headline(d: Dashboard): { pupils: Figure; pass: Figure; quality: Figure } | null {
  const p = d.performance;
  if (!p || !d.quality) return null;
  const all = d.allSubjects;
  return all
    ? { pupils: all.pupilCount, pass: all.passRate, quality: d.quality }
    : { pupils: p.pupilCount, pass: p.passRate, quality: d.quality };
}

/** The table's heading: the unit's name (a subject or a school), its id, the figures. */
export const reportColumns = (level: ReportRequest["level"]): string[] => [
  level === "SCHOOL" ? "Предмет" : "Школа",
  "Идентификатор",
  ...FIGURE_COLUMNS,
];

/**
 * A row's cells in reportColumns order (numbers as numbers; null = no population); the
 * total row is labelled `totalLabel` and has no id.
 */
export function reportCells(row: ReportRow, totalLabel: string): (string | number | null)[] {
  const p = row.dashboard.performance;
  const h = headline(row.dashboard);
  const d = p?.distribution.results;
  return [
    row.unit ? row.name : totalLabel,
    row.unit,
    h?.pupils.value ?? 0,
    percent(h?.pass),
    percent(h?.quality),
    round2(p?.degreeOfLearning),
    round2(p?.average),
    round2(p?.weightedAverage),
    d?.["5"] ?? 0,
    d?.["4"] ?? 0,
    d?.["3"] ?? 0,
    (d?.["2"] ?? 0) + (d?.["1"] ?? 0),
    d?.PASS ?? 0,
    d?.FAIL ?? 0,
    d?.NOT_ATTESTED ?? 0,
  ];
}
