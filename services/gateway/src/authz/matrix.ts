import type { ClassGroup, Person } from "@otmetka/proto/identity/v1/identity_service";
import { PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import {
  type Caller,
  formatRoleClaim,
  type Grant,
  type Role,
  type ScopeTarget,
} from "@otmetka/service-kit";
import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";

/*
 * The authorization matrix of issue 12, the only place that decides who reads what. Each
 * check returns the role claim that allowed it (recorded in the audit) or throws FORBIDDEN
 * naming the argument. Services check again on their side; this layer is the one that knows
 * "no pupil personal data to municipal or ministry roles by any path".
 */

export type Level = "REGION" | "MUNICIPALITY" | "SCHOOL" | "CLASS_GROUP";

const UNSCOPED = new Set<Role>(["PLATFORM_ADMIN", "SERVICE"]);

function covers(g: Grant, t: ScopeTarget): boolean {
  if (g.scope.kind === "none") return true;
  switch (g.scope.kind) {
    case "school":
      return t.schoolId === g.scope.id;
    case "municipality":
      return t.municipalityId === g.scope.id;
    case "region":
      return t.regionId === g.scope.id;
  }
}

/** The first grant of one of `roles` over `target`, as a role claim. */
export function grantOf(
  caller: Caller,
  roles: readonly Role[],
  target: ScopeTarget,
): string | undefined {
  const g = caller.grants.find(
    (x) => roles.includes(x.role) && (UNSCOPED.has(x.role) || covers(x, target)),
  );
  return g ? formatRoleClaim(g) : undefined;
}

export const forbidden = (field: string, what: string) =>
  gqlError("FORBIDDEN", `${field}: the caller may not read ${what}`, field);

function need(
  ctx: GatewayContext,
  roles: readonly Role[],
  target: ScopeTarget,
  field: string,
  what: string,
): string {
  const claim = grantOf(ctx.caller, roles, { ...target, regionId: ctx.regionId });
  if (!claim) throw forbidden(field, what);
  return claim;
}

/** Organisation nodes (names and structure, no people): staff over the node or above it. */
export const ORG_ROLES = {
  REGION: ["MINISTRY_OFFICER", "PLATFORM_ADMIN"],
  MUNICIPALITY: ["MUNICIPAL_OFFICER", "MINISTRY_OFFICER", "PLATFORM_ADMIN"],
  SCHOOL: ["TEACHER", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "MINISTRY_OFFICER", "PLATFORM_ADMIN"],
} as const satisfies Record<string, readonly Role[]>;

export function readRegion(ctx: GatewayContext, field = "region"): string {
  return need(ctx, ORG_ROLES.REGION, {}, field, "the region");
}

export function readMunicipality(
  ctx: GatewayContext,
  municipalityId: string,
  field = "id",
): string {
  return need(
    ctx,
    ORG_ROLES.MUNICIPALITY,
    { municipalityId },
    field,
    `municipality ${municipalityId}`,
  );
}

export function readSchool(
  ctx: GatewayContext,
  school: { schoolId: string; municipalityId: string },
  field = "id",
): string {
  return need(ctx, ORG_ROLES.SCHOOL, school, field, `school ${school.schoolId}`);
}

/** One journal of a class group: a subject, and a subgroup of it ("" for the whole class). */
export interface JournalOf {
  subjectId: string;
  subgroupId: string;
}

/**
 * Whether the caller (a TEACHER of the class group's school) teaches it, or is its homeroom
 * teacher; with `journal`, that journal. An assignment counts up to its last day once ended
 * (EndTeacherAssignment), a slot while it runs: a teacher who left or handed the class over
 * keeps neither after that day (curriculum ends their slots by then). A subgroup's assignment
 * or slot covers that subgroup's journal only, a whole-class one every journal of the subject,
 * as grades decides who may write a journal. Days are `ctx.today`: the civil date in the
 * region's zone (GATEWAY_TIME_ZONE), not UTC's.
 */
export async function teaches(
  ctx: GatewayContext,
  cg: ClassGroup,
  journal?: JournalOf,
): Promise<string | undefined> {
  const pid = ctx.caller.personId;
  const claim = grantOf(ctx.caller, ["TEACHER"], { schoolId: cg.schoolId });
  if (!pid || !claim) return undefined;
  if (cg.homeroomTeacherId === pid) return claim;
  const year = cg.academicYear?.startYear ?? 0;
  const t = await ctx.loaders.teaching.load(`${cg.schoolId}|${year}|${pid}`);
  const match = (x: {
    teacherId: string;
    classGroupId: string;
    subjectId: string;
    subgroupId: string;
  }) =>
    x.teacherId === pid &&
    x.classGroupId === cg.classGroupId &&
    (journal === undefined ||
      (x.subjectId === journal.subjectId &&
        (x.subgroupId === "" || x.subgroupId === journal.subgroupId)));
  const today = ctx.today;
  const assigned = t.assignments.some((a) => match(a) && (a.lastDay === "" || today <= a.lastDay));
  const slotted = t.slots.some((s) => match(s) && today <= s.validTo);
  return assigned || slotted ? claim : undefined;
}

/**
 * A journal: SCHOOL_ADMIN of the school, or a teacher of that class group, subject and
 * subgroup (see `teaches`), or its homeroom teacher.
 */
export async function readJournal(
  ctx: GatewayContext,
  cg: ClassGroup,
  journal: JournalOf,
): Promise<string> {
  const admin = grantOf(ctx.caller, ["SCHOOL_ADMIN"], { schoolId: cg.schoolId });
  if (admin) return admin;
  const teacher = await teaches(ctx, cg, journal);
  if (teacher) return teacher;
  const { subjectId, subgroupId } = journal;
  const field = subgroupId ? "subgroupId" : "classGroupId";
  throw forbidden(
    field,
    `the journal of class group ${cg.classGroupId}${subgroupId ? ` subgroup ${subgroupId}` : ""} in subject ${subjectId}`,
  );
}

/** A class group's pupils: its school's admin, its teachers and homeroom teacher. */
export async function readPupils(ctx: GatewayContext, cg: ClassGroup): Promise<string> {
  const admin = grantOf(ctx.caller, ["SCHOOL_ADMIN"], { schoolId: cg.schoolId });
  if (admin) return admin;
  const teacher = await teaches(ctx, cg);
  if (teacher) return teacher;
  throw forbidden("pupils", `the pupils of class group ${cg.classGroupId}`);
}

/** Dashboards: the matrix's rows for TEACHER, SCHOOL_ADMIN, MUNICIPAL_OFFICER and MINISTRY_OFFICER. */
export async function readDashboard(
  ctx: GatewayContext,
  level: Level,
  target: { scopeId: string; schoolId?: string; municipalityId?: string; classGroup?: ClassGroup },
  field = "scope",
): Promise<string> {
  const t: ScopeTarget = { regionId: ctx.regionId };
  if (target.schoolId) t.schoolId = target.schoolId;
  if (target.municipalityId) t.municipalityId = target.municipalityId;
  const what = `the dashboard of ${level.toLowerCase().replace("_", " ")} ${target.scopeId}`;
  const roles: Role[] = {
    REGION: ["MINISTRY_OFFICER"] as Role[],
    MUNICIPALITY: ["MUNICIPAL_OFFICER", "MINISTRY_OFFICER"] as Role[],
    SCHOOL: ["TEACHER", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "MINISTRY_OFFICER"] as Role[],
    CLASS_GROUP: ["SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "MINISTRY_OFFICER"] as Role[],
  }[level];
  const claim = grantOf(ctx.caller, roles, t);
  if (claim) return claim;
  if (level === "CLASS_GROUP" && target.classGroup) {
    const teacher = await teaches(ctx, target.classGroup);
    if (teacher) return teacher;
  }
  throw forbidden(field, what);
}

export interface PersonalAccess {
  claim: string;
  /** Staff reading a pupil: the read is audited. */
  audited: boolean;
}

/**
 * The schools holding a person now (identity's current_school_ids), as scope targets: a
 * school the pupil left is no longer theirs, and the one they are at now is, wherever they
 * were registered (person.schoolId).
 */
async function currentSchoolsOf(
  ctx: GatewayContext,
  person: Person,
  alsoRegistering: boolean,
): Promise<ScopeTarget[]> {
  const ids = [...person.currentSchoolIds];
  if (ids.length === 0 || (alsoRegistering && !ids.includes(person.schoolId)))
    ids.push(person.schoolId);
  return Promise.all(
    ids.map(async (schoolId) => ({
      schoolId,
      municipalityId:
        schoolId === person.schoolId
          ? person.municipalityId
          : ((await ctx.loaders.schools.load(schoolId))?.municipalityId ?? ""),
      regionId: ctx.regionId,
    })),
  );
}

/**
 * The first grant of one of `roles` over one of the person's current schools (`alsoRegistering`:
 * or the school that registered them, which identity answers with the name alone once it no
 * longer holds them).
 */
async function grantOverPerson(
  ctx: GatewayContext,
  roles: readonly Role[],
  person: Person,
  alsoRegistering = false,
): Promise<string | undefined> {
  for (const target of await currentSchoolsOf(ctx, person, alsoRegistering)) {
    const claim = grantOf(ctx.caller, roles, target);
    if (claim) return claim;
  }
  return undefined;
}

/** A pupil's diary: the pupil, a linked guardian, or the admin of the pupil's school now. */
export async function readDiary(ctx: GatewayContext, studentId: string): Promise<PersonalAccess> {
  const own = await ownOrGuardian(ctx, studentId);
  if (own) return { claim: own, audited: false };
  const person = await ctx.loaders.people.load(studentId);
  const admin = person && (await grantOverPerson(ctx, ["SCHOOL_ADMIN"], person));
  if (admin) return { claim: admin, audited: true };
  throw forbidden("studentId", `the diary of ${studentId}`);
}

async function ownOrGuardian(ctx: GatewayContext, personId: string): Promise<string | undefined> {
  const { caller } = ctx;
  if (!caller.personId) return undefined;
  // Everyone reads their own record; a self-read is not audited.
  if (caller.personId === personId) return "self";
  if (!grantOf(caller, ["GUARDIAN"], {})) return undefined;
  const children = await ctx.loaders.guardianChildren.load(caller.personId);
  return children.includes(personId) ? "GUARDIAN" : undefined;
}

/**
 * Personal data of one person: themself, a linked guardian, an authorized path (`via`: a
 * journal or class group the caller may read), the admin of a school holding them now; a staff
 * member's name (`nameOnly`) also to those who may read such a school; the school that
 * registered them as well, which identity answers with the name alone once it holds them no
 * longer (as any school that held them, asking through its journal). Never a pupil's to
 * municipal, ministry or platform roles, nor a staff member's birth date to colleagues or them.
 */
export async function readPersonalData(
  ctx: GatewayContext,
  person: Person,
  via: string | undefined,
  field: string,
  nameOnly = true,
): Promise<PersonalAccess> {
  const own = await ownOrGuardian(ctx, person.personId);
  if (own) return { claim: own, audited: false };
  const pupil = person.kind !== PersonKind.PERSON_KIND_STAFF;
  if (via && (via.startsWith("TEACHER@") || via.startsWith("SCHOOL_ADMIN@"))) {
    return { claim: via, audited: pupil };
  }
  const admin = await grantOverPerson(ctx, ["SCHOOL_ADMIN"], person, true);
  if (admin) return { claim: admin, audited: pupil };
  if (!pupil && nameOnly) {
    const staffReader = await grantOverPerson(ctx, ORG_ROLES.SCHOOL, person, true);
    if (staffReader) return { claim: staffReader, audited: false };
  }
  throw forbidden(field, `personal data of person ${person.personId}`);
}

/** Work programmes: staff of the school and the authorities above it. */
export function readWorkProgramme(
  ctx: GatewayContext,
  school: { schoolId: string; municipalityId: string },
): string {
  return need(
    ctx,
    ["TEACHER", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "MINISTRY_OFFICER"],
    school,
    "id",
    `the work programmes of school ${school.schoolId}`,
  );
}

/** A school's user accounts: those who administer them (identity's ListAccounts checks again). */
export function readAccounts(
  ctx: GatewayContext,
  school: { schoolId: string; municipalityId: string },
): string {
  return need(
    ctx,
    ["SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "PLATFORM_ADMIN"],
    school,
    "schoolId",
    `the accounts of school ${school.schoolId}`,
  );
}
