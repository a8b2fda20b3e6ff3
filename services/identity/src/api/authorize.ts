import type { Queryable } from "@otmetka/eventstore";
import {
  type Caller,
  DomainError,
  hasRole,
  type Role,
  requireRole,
  type ScopeTarget,
} from "@otmetka/service-kit";

/*
 * Where a call lands, as ScopeTargets for requireRole: the school, its municipality and the
 * region. Ids that name nothing give the region alone, so only unscoped and regional roles
 * pass and the command itself then answers NOT_FOUND.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Targets {
  constructor(
    private readonly db: Queryable,
    readonly regionId: string,
  ) {}

  region(): ScopeTarget {
    return { regionId: this.regionId };
  }

  municipality(municipalityId: string): ScopeTarget {
    return { municipalityId, regionId: this.regionId };
  }

  async school(schoolId: string): Promise<ScopeTarget> {
    if (!UUID.test(schoolId)) return this.region();
    const { rows } = await this.db.query<{ municipality_id: string }>(
      "SELECT municipality_id FROM schools WHERE school_id = $1",
      [schoolId],
    );
    return rows[0]
      ? {
          schoolId: schoolId.toLowerCase(),
          municipalityId: rows[0].municipality_id,
          regionId: this.regionId,
        }
      : this.region();
  }

  async classGroup(classGroupId: string): Promise<ScopeTarget[]> {
    return this.schoolsOf(
      "SELECT school_id FROM class_groups WHERE class_group_id = $1",
      classGroupId,
    );
  }

  async subgroup(subgroupId: string): Promise<ScopeTarget[]> {
    return this.schoolsOf("SELECT school_id FROM subgroups WHERE subgroup_id = $1", subgroupId);
  }

  /**
   * A person's schools: where they are enrolled or work now (a guardian: where their children
   * are enrolled now); with none, their last school (of the last stay, else the one that
   * registered them). SQL `person_schools` (migrations) holds the rule, shared with
   * ListAccounts and the access audit.
   */
  async person(personId: string): Promise<ScopeTarget[]> {
    return this.schoolsOf("SELECT person_schools($1) AS school_id", personId);
  }

  /**
   * Of many people in one query (GetPeople's batch): each person's current schools (as
   * `person`). Unknown people are left out.
   */
  currentSchoolsOfPeople(personIds: readonly string[]): Promise<Map<string, ScopeTarget[]>> {
    return this.schoolsOfMany("person_schools", personIds);
  }

  /**
   * Of many people in one query: the schools that held each before and hold them no longer (a
   * past stay's, the registering one, a staff school left: SQL `person_former_schools`), which
   * read the name only (personal-data-access.ts). Unknown people are left out.
   */
  formerSchoolsOfPeople(personIds: readonly string[]): Promise<Map<string, ScopeTarget[]>> {
    return this.schoolsOfMany("person_former_schools", personIds);
  }

  private async schoolsOfMany(
    fn: "person_schools" | "person_former_schools",
    personIds: readonly string[],
  ): Promise<Map<string, ScopeTarget[]>> {
    const ids = personIds.filter((id) => UUID.test(id));
    const out = new Map<string, ScopeTarget[]>();
    if (ids.length === 0) return out;
    const { rows } = await this.db.query<{
      person_id: string;
      school_id: string;
      municipality_id: string;
    }>(
      `SELECT p.person_id, x.school_id, s.municipality_id
       FROM people p CROSS JOIN LATERAL ${fn}(p.person_id) AS x(school_id)
            JOIN schools s ON s.school_id = x.school_id
       WHERE p.person_id = ANY($1::uuid[])`,
      [ids],
    );
    for (const r of rows) {
      const list = out.get(r.person_id) ?? [];
      list.push({
        schoolId: r.school_id,
        municipalityId: r.municipality_id,
        regionId: this.regionId,
      });
      out.set(r.person_id, list);
    }
    return out;
  }

  /**
   * Every school of a person, each one a part the caller must pass: commands on the person as
   * a whole (their data, erasure, account, guardians) answer to all the schools holding them,
   * so a school that joined them later (see joining, or a transfer) cannot act for the
   * others. An unknown id: the region (then NOT_FOUND).
   */
  async everySchoolOf(personId: string): Promise<{ every: ScopeTarget[][] }> {
    const schools = await this.person(personId);
    return { every: schools.length > 0 ? schools.map((s) => [s]) : [[this.region()]] };
  }

  /**
   * Every school of each of several people, each school asked once (linking a guardian: the
   * pupil's schools become the guardian's).
   */
  async everySchoolOfAll(personIds: string[]): Promise<{ every: ScopeTarget[][] }> {
    const parts = (await Promise.all(personIds.map((id) => this.everySchoolOf(id)))).flatMap(
      (w) => w.every,
    );
    const seen = new Set<string>();
    return {
      every: parts.filter((part) => {
        const key = part[0]?.schoolId ?? "region";
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    };
  }

  /**
   * A school joining a person's schools (staff assignment, enrolling a pupil): reads of their
   * data need one school of the person, so joining needs the receiving school and, as for the
   * person as a whole, every school already holding them; else A's admin could assign B's
   * teacher to A and read their data. A school already theirs is asked once.
   */
  async joining(personId: string, receiving: ScopeTarget[]): Promise<Where> {
    const { every } = await this.everySchoolOf(personId);
    const isReceiving = (t: ScopeTarget) =>
      t.schoolId !== undefined && receiving.some((r) => r.schoolId === t.schoolId);
    return { every: [receiving, ...every.filter((part) => !part.some(isReceiving))] };
  }

  /**
   * The school of the pupil's current class group: the roster a transfer or withdrawal ends.
   * Not enrolled: their schools, so that the command itself answers "is not enrolled".
   */
  async stay(personId: string): Promise<ScopeTarget[]> {
    const now = await this.schoolsOf(
      "SELECT school_id FROM enrollments WHERE person_id = $1 AND valid_to IS NULL",
      personId,
    );
    return now.length > 0 ? now : this.person(personId);
  }

  /** Bad ids find nothing (the command then refuses them by field). */
  private async schoolsOf(sql: string, id: string): Promise<ScopeTarget[]> {
    if (!UUID.test(id)) return [];
    const { rows } = await this.db.query<{ school_id: string }>(sql, [id]);
    return Promise.all(rows.map((r) => this.school(r.school_id)));
  }
}

/** Whether the caller holds one of `roles` over at least one of `targets`. */
export function hasRoleOver(
  caller: Caller,
  roles: readonly Role[],
  targets: ScopeTarget[],
): boolean {
  const list = targets.length > 0 ? targets : [undefined];
  return roles.some((r) => list.some((t) => hasRole(caller, r, t)));
}

/** requireRole over several possible targets (a pupil of two schools, a transfer's ends). */
export function requireRoleOver(
  caller: Caller,
  roles: readonly Role[],
  targets: ScopeTarget[],
  regionId: string,
): void {
  if (hasRoleOver(caller, roles, targets)) return;
  requireRole(caller, roles, targets[0] ?? { regionId });
}

/**
 * Where a call acts: one target, or a list of which one suffices (a person's schools, for
 * reading), or `every` part of a call that writes in two places (a transfer leaves one school
 * and joins another) or acts on a whole person held by several schools: a union would let
 * either school's admin act for the other.
 */
export type Where = ScopeTarget | ScopeTarget[] | { every: ScopeTarget[][] };

/** Refuses naming every part the caller lacks (each by its first target), not just one. */
export function requireRoleWhere(
  caller: Caller,
  roles: readonly Role[],
  where: Where,
  regionId: string,
): void {
  // Arrays have an `every` method: test for a list first.
  const listed = Array.isArray(where) ? [where] : "every" in where ? where.every : [[where]];
  // An empty `every` must not pass everyone: it asks for the region, as an empty part does.
  const parts = listed.length > 0 ? listed : [[{ regionId }]];
  // A part naming nothing is the region's, as in requireRoleOver.
  const missing = parts
    .map((part) => (part.length > 0 ? part : [{ regionId }]))
    .flatMap((part) => (hasRoleOver(caller, roles, part) ? [] : [part[0] ?? { regionId }]));
  if (missing.length === 0) return;
  // One school missing: requireRole's own wording (with its municipality and region).
  if (missing.length === 1) requireRole(caller, roles, missing[0]);
  const named = missing.map((t) => (t.schoolId ? `school ${t.schoolId}` : `region ${regionId}`));
  throw new DomainError(
    "permission_denied",
    `caller: needs ${roles.join(" or ")} for each of ${named.join(", ")}`,
  );
}

/** Role sets of identity's calls (README "Authorization"). */
export const ROLES_OF = {
  /** Municipalities: the region's business. */
  region: ["PLATFORM_ADMIN", "MINISTRY_OFFICER"],
  /** Schools: registered and closed by their municipality or above. */
  municipality: ["PLATFORM_ADMIN", "MINISTRY_OFFICER", "MUNICIPAL_OFFICER"],
  /** People, class groups, enrollment, guardians: the school's administration and above. */
  school: ["PLATFORM_ADMIN", "SERVICE", "MUNICIPAL_OFFICER", "SCHOOL_ADMIN"],
  /** Subgroups: teachers split their classes too. */
  teaching: ["PLATFORM_ADMIN", "SERVICE", "MUNICIPAL_OFFICER", "SCHOOL_ADMIN", "TEACHER"],
  /** Erasure: the school's administration or the platform (no service erases on its own). */
  erasure: ["PLATFORM_ADMIN", "MUNICIPAL_OFFICER", "SCHOOL_ADMIN"],
  /** Legal holds come from outside a school: the authorities or the platform. */
  legalHold: ["PLATFORM_ADMIN", "MINISTRY_OFFICER", "MUNICIPAL_OFFICER"],
  /** Personal data of a person: staff of their schools, the authorities above, services. */
  personalData: [
    "PLATFORM_ADMIN",
    "SERVICE",
    "MINISTRY_OFFICER",
    "MUNICIPAL_OFFICER",
    "SCHOOL_ADMIN",
    "TEACHER",
  ],
  /** Encryption for other services (their free text about a person). */
  encryption: ["PLATFORM_ADMIN", "SERVICE", "SCHOOL_ADMIN", "TEACHER"],
  /** Listing accounts: those who open and switch them off (usernames may be names). */
  accounts: ["PLATFORM_ADMIN", "MUNICIPAL_OFFICER", "SCHOOL_ADMIN"],
  /** Portal ids come from the portal integration. */
  portal: ["PLATFORM_ADMIN", "SERVICE"],
} as const satisfies Record<string, readonly Role[]>;
