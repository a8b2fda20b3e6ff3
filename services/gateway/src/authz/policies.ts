import type { ClassGroup, School } from "@otmetka/proto/identity/v1/identity_service";
import type { GatewayContext, PersonRef } from "../context.js";
import { gqlError } from "../http/errors.js";
import { PAYLOAD_TYPES } from "../mutations/typed.js";
import type { AccountNode } from "../resolvers/accounts.js";
import { resolveScope } from "../resolvers/dashboard.js";
import { id, workProgrammeId } from "../resolvers/inputs.js";
import type { JournalNode } from "../resolvers/nodes.js";
import {
  forbidden,
  type PersonalAccess,
  readAccounts,
  readDashboard,
  readDiary,
  readJournal,
  readMunicipality,
  readPersonalData,
  readPupils,
  readRegion,
  readSchool,
  readWorkProgramme,
} from "./matrix.js";
import { MUTATION_POLICIES } from "./mutations.js";

/**
 * A field's authorization: resolves to the role claim that allows it (passed to the resolver
 * and the audit) or throws FORBIDDEN. A field that serves pupils' data to staff resolves to
 * `Audited`: apply.ts notes the read, and it is recorded only if the answer holds the field.
 * `inherit` means the parent object was authorized and this field shows nothing more than the
 * parent's own data.
 */
// biome-ignore lint/suspicious/noExplicitAny: policies see each field's own parent and args
export type Policy = (parent: any, args: any, ctx: GatewayContext) => Promise<Allowed>;
export type Allowed = string | Audited | undefined;

export interface Audited {
  claim: string;
  /** The pupils whose data the field serves. */
  pupils: readonly string[];
}

const audited = (access: PersonalAccess, pupils: readonly string[]): string | Audited =>
  access.audited ? { claim: access.claim, pupils } : access.claim;

const notFound = (field: string, what: string) =>
  gqlError("NOT_FOUND", `${field}: no ${what}`, field);

async function classGroupOf(ctx: GatewayContext, raw: string, field: string): Promise<ClassGroup> {
  const cg = await ctx.loaders.classGroups.load(id(field, raw));
  if (!cg) throw notFound(field, `class group ${raw}`);
  return cg;
}

async function schoolOf(ctx: GatewayContext, raw: string, field: string): Promise<School> {
  const s = await ctx.loaders.schools.load(id(field, raw));
  if (!s) throw notFound(field, `school ${raw}`);
  return s;
}

/**
 * Personal data of the Person parent; a staff read of a pupil is audited. A name, or more
 * (a birth date: not to those who read a staff member's name by reading their school).
 */
const personal =
  (field: string, nameOnly: boolean): Policy =>
  async (p: PersonRef, _a, ctx) => {
    const person = await ctx.loaders.people.load(p.id);
    if (!person) throw notFound("id", `person ${p.id}`);
    return audited(await readPersonalData(ctx, person, p.via, field, nameOnly), [p.id]);
  };
const personalName = personal("name", true);

/** Every field that needs more than its parent's authorization. */
export const FIELD_POLICIES: Record<string, Policy> = {
  "Query.me": async () => "self",
  "Query.region": async (_p, _a, ctx) => readRegion(ctx),
  "Query.municipality": async (_p, a: { id: string }, ctx) => readMunicipality(ctx, id("id", a.id)),
  "Query.school": async (_p, a: { id: string }, ctx) =>
    readSchool(ctx, await schoolOf(ctx, a.id, "id")),
  "Query.classGroup": async (_p, a: { id: string }, ctx) =>
    readSchool(ctx, await classGroupOf(ctx, a.id, "id")),
  "Query.person": async (_p, a: { id: string }, ctx) => {
    const person = await ctx.loaders.people.load(id("id", a.id));
    if (!person) throw notFound("id", `person ${a.id}`);
    return (await readPersonalData(ctx, person, undefined, "id")).claim;
  },
  "Query.journal": async (
    _p,
    a: { classGroupId: string; subjectId: string; subgroupId?: string | null },
    ctx,
  ) =>
    readJournal(ctx, await classGroupOf(ctx, a.classGroupId, "classGroupId"), {
      subjectId: id("subjectId", a.subjectId),
      // Whose subgroup it is, the resolver checks (NOT_FOUND); here, whether the caller teaches it.
      subgroupId: a.subgroupId ? id("subgroupId", a.subgroupId) : "",
    }),
  "Query.diary": async (_p, a: { studentId: string }, ctx) => {
    const studentId = id("studentId", a.studentId);
    return audited(await readDiary(ctx, studentId), [studentId]);
  },
  "Query.workProgramme": async (_p, a: { id: string }, ctx) =>
    readWorkProgramme(ctx, await schoolOf(ctx, workProgrammeId(a.id).schoolId, "id")),
  "Query.dashboard": async (_p, a: { scope: Parameters<typeof resolveScope>[1] }, ctx) => {
    const scope = await resolveScope(ctx, a.scope);
    return readDashboard(ctx, scope.level, scope);
  },
  "Query.accounts": async (_p, a: { schoolId: string }, ctx) =>
    readAccounts(ctx, await schoolOf(ctx, a.schoolId, "schoolId")),
  // A username may be a name: the person's personal data, authorized (and audited) as their name.
  "Account.username": async (a: AccountNode, _a, ctx) => {
    const person = a.personId ? await ctx.loaders.people.load(a.personId) : undefined;
    if (!person) throw forbidden("username", `the username of account ${a.id}`);
    return audited(await readPersonalData(ctx, person, undefined, "username"), [a.personId]);
  },
  // Organisation links upward are checked again: a teacher's school does not open its municipality.
  "School.municipality": async (s: School, _a, ctx) =>
    readMunicipality(ctx, s.municipalityId, "municipality"),
  "ClassGroup.pupils": async (c: ClassGroup, _a, ctx) => readPupils(ctx, c),
  "Person.name": personalName,
  "Person.familyName": personalName,
  "Person.givenName": personalName,
  "Person.patronymic": personalName,
  "Person.birthDate": personal("birthDate", false),
  "Person.namesOnly": personalName,
  // Marks of every pupil of the journal reach the caller: one audited read for all of them.
  "Journal.rows": async (j: JournalNode) => ({ claim: j.claim, pupils: j.view.studentIds }),
  // Exemptions are part of the pupils' record like marks: audited for the pupils they name.
  // (A diary's are audited with the diary, Query.diary.)
  "Journal.exemptions": async (j: JournalNode) => ({
    claim: j.claim,
    pupils: [...new Set(j.view.exemptions.map((e) => e.studentId))],
  }),
};

// Subscriptions are authorized exactly like the queries whose changes they announce (their
// notices carry no pupil's data: apply.ts audits no Subscription field).
FIELD_POLICIES["Subscription.journalChanged"] = FIELD_POLICIES["Query.journal"] as Policy;
FIELD_POLICIES["Subscription.diaryChanged"] = FIELD_POLICIES["Query.diary"] as Policy;
FIELD_POLICIES["Subscription.dashboardChanged"] = FIELD_POLICIES["Query.dashboard"] as Policy;
Object.assign(FIELD_POLICIES, MUTATION_POLICIES);

/**
 * Types whose fields show only what their authorized parent already allowed. Every object type
 * of the schema is either here or has each field in FIELD_POLICIES (a test checks).
 */
export const INHERITING_TYPES = new Set([
  "Me",
  "Region",
  "Municipality",
  "School",
  "ClassGroup",
  "Person",
  "Subject",
  "Journal",
  "JournalLesson",
  "JournalRow",
  "Mark",
  "Absence",
  "Diary",
  "DiaryLesson",
  "DiaryMark",
  "SubjectAverage",
  "Exemption",
  "WorkProgramme",
  "PlannedLesson",
  "Dashboard",
  "Figure",
  "MarkDistribution",
  "MissedCounts",
  "ChangeNotice",
  "AccountPage",
  "Account",
  // A command's answer: authorized with the command (its field's policy).
  ...PAYLOAD_TYPES,
]);
