import { type Metadata, status } from "@grpc/grpc-js";
import type {
  GetTimetableResponse,
  GetWorkProgrammeResponse,
  Subject,
} from "@otmetka/proto/curriculum/v1/curriculum_service";
import type {
  ClassGroup,
  GetRegionResponse,
  GetSubgroupRosterResponse,
  Municipality,
  Person,
  School,
} from "@otmetka/proto/identity/v1/identity_service";
import type {
  DashboardQuery,
  DashboardResult,
  DiaryResult,
  GetJournalViewResponse,
} from "@otmetka/proto/reporting/v1/reporting_service";
import DataLoader from "dataloader";
import type { Backends } from "./clients.js";
import { type DashboardCache, queryTag } from "./dashboard-cache.js";

/**
 * Per-request DataLoaders over the services' batch calls. Every resolver reads through these,
 * so a page costs one call per kind of fact however many rows it has (the journal test counts).
 */
export interface Loaders {
  region: DataLoader<"region", GetRegionResponse>;
  municipalities: DataLoader<"all", Municipality[]>;
  schools: DataLoader<string, School | null>;
  schoolsOfMunicipality: DataLoader<string, School[]>;
  classGroups: DataLoader<string, ClassGroup | null>;
  classGroupsOfSchool: DataLoader<string, ClassGroup[]>;
  /** People without personal data: kind and schools, for the policy checks. */
  people: DataLoader<string, Person | null>;
  /** People with personal data: only read after the policy allowed the field. */
  personalData: DataLoader<string, Person | null>;
  roster: DataLoader<string, string[]>;
  guardianChildren: DataLoader<string, string[]>;
  /** Key `<schoolId>|<startYear>|<teacherId>`: what a teacher teaches there that year. */
  teaching: DataLoader<string, GetTimetableResponse>;
  subjects: DataLoader<string, Subject[]>;
  /** Key `<studentId>|<from>|<to>`. */
  diaries: DataLoader<string, DiaryResult>;
  dashboards: DataLoader<DashboardQuery, DashboardResult, string>;
  /** Key: `<classGroupId>|<subjectId>|<startYear>|<term>|<subgroupId or empty>`. */
  journals: DataLoader<string, GetJournalViewResponse>;
  /** A subgroup's class group, subject and today's members (identity). */
  subgroups: DataLoader<string, GetSubgroupRosterResponse>;
  /** Key: the WorkProgramme id `<schoolId>:<startYear>:<subjectId>:<gradeLevel>[:<version>]`. */
  workProgrammes: DataLoader<string, GetWorkProgrammeResponse>;
}

const byId = <T>(ids: readonly string[], items: T[], id: (t: T) => string): (T | null)[] => {
  const map = new Map(items.map((t) => [id(t), t]));
  return ids.map((k) => map.get(k) ?? null);
};

/**
 * The most pupils a GetDiaries call and queries a GetDashboards call may carry: reporting
 * refuses larger batches whole (MAX_BATCH_ITEMS in services/reporting/src/api/batch-limit.ts;
 * change both together), so their loaders split a request's keys into calls of at most this.
 */
export const REPORTING_MAX_BATCH = 200;

/** A single call per key; DataLoader still de-duplicates equal keys within the request. */
const each = <K, V>(load: (key: K) => Promise<V>, cacheKeyFn?: (k: K) => string) =>
  new DataLoader<K, V, string>((keys) => Promise.all(keys.map(load)), {
    ...(cacheKeyFn ? { cacheKeyFn } : {}),
  });

/** The process-wide dashboard cache and the caller's grants, its key (see dashboard-cache.ts). */
export interface DashboardCacheUse {
  cache: DashboardCache;
  grants: string;
  /** The request's dashboards' scopes (`queryTag`), hits included: what its whole response is tagged with. */
  scopes: Set<string>;
}

// The handler of every request's lazy loaders: builds them on the first use (a target of its own).
const lazy: ProxyHandler<{ build: () => Loaders; built?: Loaders }> = {
  get(t, key) {
    t.built ??= t.build();
    return t.built[key as keyof Loaders];
  },
};

/**
 * The loaders, built when a resolver first reads one: a command whose scope check needs no
 * lookup (placements.ts) reads none, and its request then makes no DataLoaders, no call
 * metadata and no grants key.
 */
export function lazyLoaders(build: () => Loaders): Loaders {
  return new Proxy({ build }, lazy) as unknown as Loaders;
}

export function createLoaders(
  b: Backends,
  md: Metadata,
  today: () => string,
  cache?: DashboardCacheUse,
): Loaders {
  return {
    region: each(async () => b.identity.getRegion({}, md)),
    municipalities: each(async () => (await b.identity.listMunicipalities({}, md)).municipalities),
    schools: new DataLoader(async (ids) => {
      const { schools } = await b.identity.getSchools(
        { schoolIds: [...ids], municipalityId: "" },
        md,
      );
      return byId(ids, schools, (s) => s.schoolId);
    }),
    schoolsOfMunicipality: each(
      async (municipalityId: string) =>
        (await b.identity.getSchools({ schoolIds: [], municipalityId }, md)).schools,
    ),
    classGroups: new DataLoader(async (ids) => {
      const { classGroups } = await b.identity.getClassGroups(
        { classGroupIds: [...ids], schoolId: "" },
        md,
      );
      return byId(ids, classGroups, (c) => c.classGroupId);
    }),
    classGroupsOfSchool: each(
      async (schoolId: string) =>
        (await b.identity.getClassGroups({ classGroupIds: [], schoolId }, md)).classGroups,
    ),
    people: new DataLoader(async (ids) => {
      const { people } = await b.identity.getPeople(
        { personIds: [...ids], includePersonalData: false },
        md,
      );
      return byId(ids, people, (p) => p.personId);
    }),
    personalData: new DataLoader(async (ids) => {
      const { people } = await b.identity.getPeople(
        { personIds: [...ids], includePersonalData: true },
        md,
      );
      return byId(ids, people, (p) => p.personId);
    }),
    subgroups: each((subgroupId: string) =>
      b.identity.getSubgroupRoster({ subgroupId, date: today() }, md),
    ),
    roster: each(
      async (classGroupId: string) =>
        (await b.identity.getRoster({ classGroupId, date: today() }, md)).personIds,
    ),
    guardianChildren: each(
      async (guardianId: string) =>
        (await b.identity.getGuardianChildren({ guardianId }, md)).studentIds,
    ),
    teaching: each(async (key: string) => {
      const [schoolId = "", year = "0", teacherId = ""] = key.split("|");
      return b.curriculum.getTimetable(
        {
          schoolId,
          academicYear: { startYear: Number(year) },
          classGroupId: "",
          teacherId,
          onDate: "",
        },
        md,
      );
    }),
    // Curriculum lets a school's staff and officers, and its pupils and their guardians, list
    // its subjects; anyone else sees subject ids.
    subjects: each(async (schoolId: string) => {
      try {
        return (await b.curriculum.listSubjects({ schoolId }, md)).subjects;
      } catch (err) {
        if ((err as { code?: number }).code === status.PERMISSION_DENIED) return [];
        throw err;
      }
    }),
    diaries: new DataLoader(
      async (keys) => {
        // One GetDiaries per distinct (from, to); a page normally has one.
        const groups = new Map<string, string[]>();
        for (const k of keys) {
          const [id = "", from = "", to = ""] = k.split("|");
          const g = `${from}|${to}`;
          groups.set(g, [...(groups.get(g) ?? []), id]);
        }
        const found = new Map<string, DiaryResult>();
        for (const [g, ids] of groups) {
          const [from = "", to = ""] = g.split("|");
          const { results } = await b.reporting.getDiaries({ studentIds: ids, from, to }, md);
          for (const r of results) found.set(`${r.studentId}|${g}`, r);
        }
        return keys.map(
          (k) =>
            found.get(k) ?? {
              studentId: k.split("|")[0] ?? "",
              error: { code: "NOT_FOUND", message: "studentId: no diary" },
            },
        );
      },
      { maxBatchSize: REPORTING_MAX_BATCH },
    ),
    dashboards: new DataLoader(
      async (queries) => {
        const keys = queries.map((q) => `${cache?.grants ?? ""}|${JSON.stringify(q)}`);
        const tags = queries.map(queryTag);
        for (const t of tags) cache?.scopes.add(t ?? "");
        const hits = keys.map((k) => cache?.cache.get(k));
        const missing = queries.filter((_, i) => !hits[i]);
        const generation = cache?.cache.begin() ?? 0;
        const { results } = missing.length
          ? await b.reporting.getDashboards({ queries: missing }, md)
          : { results: [] };
        // Reporting answers item by item, in the order asked.
        let m = 0;
        return queries.map((q, i) => {
          const hit = hits[i];
          if (hit) return hit;
          const r = results[m++] ?? {
            query: q,
            error: { code: "UNAVAILABLE", message: "no answer" },
          };
          const tag = tags[i];
          cache?.cache.set(keys[i] as string, r, generation, tag === undefined ? null : [tag]);
          return r;
        });
      },
      { cacheKeyFn: (q) => JSON.stringify(q), maxBatchSize: REPORTING_MAX_BATCH },
    ),
    journals: each(async (key: string) => {
      const [classGroupId = "", subjectId = "", year = "0", term = "0", subgroupId = ""] =
        key.split("|");
      return b.reporting.getJournalView(
        {
          classGroupId,
          subgroupId,
          subjectId,
          academicYear: { startYear: Number(year) },
          term: Number(term),
        },
        md,
      );
    }),
    workProgrammes: each(async (key: string) => {
      const [schoolId = "", year = "0", subjectId = "", grade = "0", version = "0"] =
        key.split(":");
      return b.curriculum.getWorkProgramme(
        {
          schoolId,
          academicYear: { startYear: Number(year) },
          subjectId,
          gradeLevel: Number(grade),
          version: Number(version),
        },
        md,
      );
    }),
  };
}
