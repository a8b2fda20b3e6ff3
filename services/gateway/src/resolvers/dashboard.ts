import type { ClassGroup } from "@otmetka/proto/identity/v1/identity_service";
import {
  AsOfMode,
  type Dashboard,
  type DashboardQuery,
  type Figure,
  Level,
  ResultBasis,
} from "@otmetka/proto/reporting/v1/reporting_service";
import { academicYearOf } from "@otmetka/service-kit";
import type { Level as ScopeLevel } from "../authz/matrix.js";
import type { GatewayContext } from "../context.js";
import { gqlError, itemError } from "../http/errors.js";
import { civilDate, id, range } from "./inputs.js";

export interface DashboardScopeInput {
  regionId?: string | null;
  municipalityId?: string | null;
  schoolId?: string | null;
  classGroupId?: string | null;
}

export interface DashboardPeriodInput {
  academicYear?: number | null;
  term?: number | null;
  year?: boolean | null;
  current?: boolean | null;
  from?: string | null;
  to?: string | null;
  asOf?: string | null;
  asOfMode?: "RECORDED" | "EFFECTIVE" | null;
  basis?: "PERIOD_MARKS" | "CURRENT" | null;
}

/** What the matrix needs to know about a scope, and what reporting is asked. */
export interface DashboardScope {
  level: ScopeLevel;
  scopeId: string;
  name?: string;
  schoolId?: string;
  municipalityId?: string;
  classGroup?: ClassGroup;
}

export interface DashboardNode extends DashboardScope {
  query: DashboardQuery;
  dashboard: Dashboard;
}

const LEVEL: Record<ScopeLevel, Level> = {
  REGION: Level.LEVEL_REGION,
  MUNICIPALITY: Level.LEVEL_MUNICIPALITY,
  SCHOOL: Level.LEVEL_SCHOOL,
  CLASS_GROUP: Level.LEVEL_CLASS_GROUP,
};

const notFound = (field: string, what: string) =>
  gqlError("NOT_FOUND", `${field}: no ${what}`, field);

/** Exactly one of the scope's fields, resolved to its place in the organisation. */
export async function resolveScope(
  ctx: GatewayContext,
  s: DashboardScopeInput,
): Promise<DashboardScope> {
  const given = Object.entries(s).filter(([, v]) => v !== null && v !== undefined);
  if (given.length !== 1) {
    throw gqlError(
      "BAD_USER_INPUT",
      "scope: give exactly one of regionId, municipalityId, schoolId, classGroupId",
      "scope",
    );
  }
  const [key, raw] = given[0] as [keyof DashboardScopeInput, string];
  const value = id(`scope.${key}`, raw);
  switch (key) {
    case "regionId":
      if (value !== ctx.regionId) throw notFound("scope.regionId", `region ${value}`);
      return { level: "REGION", scopeId: value };
    case "municipalityId": {
      const all = await ctx.loaders.municipalities.load("all");
      const m = all.find((x) => x.municipalityId === value);
      if (!m) throw notFound("scope.municipalityId", `municipality ${value}`);
      return { level: "MUNICIPALITY", scopeId: value, municipalityId: value, name: m.name };
    }
    case "schoolId": {
      const school = await ctx.loaders.schools.load(value);
      if (!school) throw notFound("scope.schoolId", `school ${value}`);
      return {
        level: "SCHOOL",
        scopeId: value,
        schoolId: value,
        municipalityId: school.municipalityId,
        name: school.name,
      };
    }
    case "classGroupId": {
      const cg = await ctx.loaders.classGroups.load(value);
      if (!cg) throw notFound("scope.classGroupId", `class group ${value}`);
      return {
        level: "CLASS_GROUP",
        scopeId: value,
        schoolId: cg.schoolId,
        municipalityId: cg.municipalityId,
        classGroup: cg,
        name: `${cg.gradeLevel} ${cg.letter}`,
      };
    }
  }
  throw gqlError("BAD_USER_INPUT", "scope: unknown field", "scope");
}

/** The period as reporting's DashboardQuery (without the scope). */
export function periodQuery(
  ctx: GatewayContext,
  p: DashboardPeriodInput,
  subjectId: string | null | undefined,
): Omit<DashboardQuery, "level" | "scopeId"> {
  const kinds = [
    p.term !== null && p.term !== undefined,
    p.year === true,
    p.current === true,
    Boolean(p.from || p.to),
  ].filter(Boolean).length;
  if (kinds !== 1) {
    throw gqlError(
      "BAD_USER_INPUT",
      "period: give exactly one of term, year, current or from+to",
      "period",
    );
  }
  if (p.term !== null && p.term !== undefined && (p.term < 1 || p.term > 4)) {
    throw gqlError("BAD_USER_INPUT", "period.term: must be 1-4", "period.term");
  }
  const year = p.academicYear ?? academicYearOf(ctx.today);
  if (year < 2000 || year > 2100) {
    throw gqlError(
      "BAD_USER_INPUT",
      "period.academicYear: must be 2000-2100",
      "period.academicYear",
    );
  }
  const q: Omit<DashboardQuery, "level" | "scopeId"> = {
    academicYear: { startYear: year },
    subjectId: subjectId ? id("subjectId", subjectId) : "",
    asOf: p.asOf ? civilDate("period.asOf", p.asOf) : "",
    // Absent: the current state, "to date" figures stopping at asOf (reporting's default).
    asOfMode:
      p.asOfMode === "EFFECTIVE"
        ? AsOfMode.AS_OF_MODE_EFFECTIVE
        : p.asOfMode === "RECORDED"
          ? AsOfMode.AS_OF_MODE_RECORDED
          : AsOfMode.AS_OF_MODE_UNSPECIFIED,
    definitionVersion: 0,
    basis:
      p.basis === "CURRENT"
        ? ResultBasis.RESULT_BASIS_CURRENT
        : p.basis === "PERIOD_MARKS"
          ? ResultBasis.RESULT_BASIS_PERIOD_MARKS
          : ResultBasis.RESULT_BASIS_UNSPECIFIED,
  };
  if (p.term !== null && p.term !== undefined) q.term = p.term;
  else if (p.year) q.year = true;
  else if (p.current) q.current = true;
  else {
    if (!p.from || !p.to)
      throw gqlError("BAD_USER_INPUT", "period: a range needs from and to", "period");
    q.range = range(p.from, p.to, 366, ["period.from", "period.to"]);
  }
  return q;
}

export function queryFor(
  scope: DashboardScope,
  period: Omit<DashboardQuery, "level" | "scopeId">,
): DashboardQuery {
  return {
    ...period,
    level: LEVEL[scope.level],
    scopeId: scope.level === "REGION" ? "" : scope.scopeId,
  };
}

export async function loadDashboard(
  ctx: GatewayContext,
  scope: DashboardScope,
  query: DashboardQuery,
): Promise<DashboardNode> {
  const r = await ctx.loaders.dashboards.load(query);
  if (r.error || !r.dashboard) {
    throw itemError(r.error?.code ?? "UNAVAILABLE", r.error?.message ?? "dashboard: no answer");
  }
  return { ...scope, query, dashboard: r.dashboard };
}

/** The next level down, before the matrix filters it. */
export async function childScopes(
  ctx: GatewayContext,
  node: DashboardNode,
): Promise<DashboardScope[]> {
  switch (node.level) {
    case "REGION":
      return (await ctx.loaders.municipalities.load("all")).map((m) => ({
        level: "MUNICIPALITY" as const,
        scopeId: m.municipalityId,
        municipalityId: m.municipalityId,
        name: m.name,
      }));
    case "MUNICIPALITY":
      return (await ctx.loaders.schoolsOfMunicipality.load(node.scopeId)).map((s) => ({
        level: "SCHOOL" as const,
        scopeId: s.schoolId,
        schoolId: s.schoolId,
        municipalityId: s.municipalityId,
        name: s.name,
      }));
    case "SCHOOL": {
      const year = node.query.academicYear?.startYear;
      return (await ctx.loaders.classGroupsOfSchool.load(node.scopeId))
        .filter((c) => c.academicYear?.startYear === year)
        .map((c) => ({
          level: "CLASS_GROUP" as const,
          scopeId: c.classGroupId,
          schoolId: c.schoolId,
          municipalityId: c.municipalityId,
          classGroup: c,
          name: `${c.gradeLevel} ${c.letter}`,
        }));
    }
    case "CLASS_GROUP":
      return [];
  }
}

/** Definition versions of every figure present, sorted, comma-separated. */
export function definitionVersion(d: Dashboard): string {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (!v || typeof v !== "object") return;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string" && /definition$/i.test(k) && x) out.add(x);
      else walk(x);
    }
  };
  walk(d);
  return [...out].sort().join(",");
}

export const figure = (f: Figure | undefined) => f ?? null;

/**
 * The headline pupil count and pass rate. Over all subjects they are reporting's all-subjects
 * figures (domain.md: the pupils, and those with no 2 or н/а in any subject), not the
 * per-subject formulas over the subjects' results summed, which count pupil-subject results
 * (9 "pupils" for 7 pupils in two subjects). One subject has only the latter.
 */
export const headlineFigures = (d: Dashboard): { pupilCount?: Figure; passRate?: Figure } => ({
  pupilCount: d.allSubjects?.pupilCount ?? d.performance?.pupilCount,
  passRate: d.allSubjects?.passRate ?? d.performance?.passRate,
});
