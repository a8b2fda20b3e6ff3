import type { ClassGroup, Municipality, School } from "@otmetka/proto/identity/v1/identity_service";
import type { Absence, Exemption, TermMark } from "@otmetka/proto/reporting/v1/reporting_service";
import type { GraphQLResolveInfo } from "graphql";
import { GraphQLScalarType, Kind } from "graphql";
import { readDashboard } from "../authz/matrix.js";
import type { GatewayContext, PersonRef } from "../context.js";
import { gqlError, itemError } from "../http/errors.js";
import { JSONObject, mutationResolvers } from "../mutations/resolvers.js";
import { payloadResolvers } from "../mutations/typed.js";
import { subscriptionResolvers } from "../subscriptions/resolvers.js";
import { accountResolvers, accountsOf } from "./accounts.js";
import {
  childScopes,
  type DashboardNode,
  type DashboardPeriodInput,
  type DashboardScopeInput,
  definitionVersion,
  figure,
  headlineFigures,
  loadDashboard,
  periodQuery,
  queryFor,
  resolveScope,
} from "./dashboard.js";
import { absenceReason, markValue, personKind } from "./enums.js";
import { civilDate, id, range, termId, workProgrammeId } from "./inputs.js";
import type { DiaryNode, JournalNode, JournalRowNode } from "./nodes.js";
import { pupilOf } from "./pupil.js";
import { alphabeticalPupils } from "./roster-order.js";
import { subgroupOf } from "./subgroups.js";

type Ctx = GatewayContext;
const notFound = (field: string, what: string) =>
  gqlError("NOT_FOUND", `${field}: no ${what}`, field);

const DateScalar = new GraphQLScalarType({
  name: "Date",
  description: "A civil date, YYYY-MM-DD.",
  serialize: (v) => String(v),
  parseValue: (v) => {
    if (typeof v !== "string")
      throw gqlError("BAD_USER_INPUT", "Date: must be a string YYYY-MM-DD");
    return civilDate("Date", v);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING)
      throw gqlError("BAD_USER_INPUT", "Date: must be a string YYYY-MM-DD");
    return civilDate("Date", ast.value);
  },
});

async function school(ctx: Ctx, schoolId: string, field = "id"): Promise<School> {
  const s = await ctx.loaders.schools.load(id(field, schoolId));
  if (!s) throw notFound(field, `school ${schoolId}`);
  return s;
}

export async function classGroup(
  ctx: Ctx,
  classGroupId: string,
  field = "id",
): Promise<ClassGroup> {
  const c = await ctx.loaders.classGroups.load(id(field, classGroupId));
  if (!c) throw notFound(field, `class group ${classGroupId}`);
  return c;
}

async function subject(ctx: Ctx, schoolId: string, subjectId: string) {
  const all = await ctx.loaders.subjects.load(schoolId);
  const s = all.find((x) => x.subjectId === subjectId);
  return s
    ? { id: s.subjectId, code: s.code, name: s.name }
    : { id: subjectId, code: subjectId, name: subjectId };
}

const absence = (a: Absence) => ({
  lessonId: a.lessonId,
  reason: absenceReason(a.reason),
  lateMinutes: a.lateMinutes,
});
const orNull = (s: string) => (s === "" ? null : s);
// The pupil carries the claim of the journal or diary it was reached through, as its row does.
const exemption = (e: Exemption, schoolId: string, claim: string, ctx: Ctx) => ({
  pupil: { id: e.studentId, ...(claim ? { via: claim } : {}) } satisfies PersonRef,
  firstDay: e.firstDay,
  lastDay: e.lastDay,
  subject: () => subject(ctx, schoolId, e.subjectId),
});

async function personalData(ref: PersonRef, ctx: Ctx) {
  const p = await ctx.loaders.personalData.load(ref.id);
  return p && !p.erased ? p.personalData : undefined;
}

export const resolvers = {
  Date: DateScalar,
  JSONObject,
  Mutation: mutationResolvers,
  ...payloadResolvers,
  Subscription: subscriptionResolvers,
  Query: {
    me: (_: unknown, __: unknown, ctx: Ctx) => ctx.caller,
    region: async (_: unknown, __: unknown, ctx: Ctx) => ctx.loaders.region.load("region"),
    municipality: async (_: unknown, a: { id: string }, ctx: Ctx): Promise<Municipality> => {
      const m = (await ctx.loaders.municipalities.load("all")).find(
        (x) => x.municipalityId === a.id,
      );
      if (!m) throw notFound("id", `municipality ${a.id}`);
      return m;
    },
    school: (_: unknown, a: { id: string }, ctx: Ctx) => school(ctx, a.id),
    accounts: (
      _: unknown,
      a: { schoolId: string; pageSize?: number | null; pageToken?: string | null },
      ctx: Ctx,
    ) => accountsOf(ctx, a),
    classGroup: (_: unknown, a: { id: string }, ctx: Ctx) => classGroup(ctx, a.id),
    person: async (_: unknown, a: { id: string }, ctx: Ctx): Promise<PersonRef> => {
      const p = await ctx.loaders.people.load(id("id", a.id));
      if (!p) throw notFound("id", `person ${a.id}`);
      return { id: p.personId };
    },
    journal: async (
      _: unknown,
      a: { classGroupId: string; subjectId: string; termId: string; subgroupId?: string | null },
      ctx: Ctx,
      info: GraphQLResolveInfo,
    ): Promise<JournalNode> => {
      const cg = await classGroup(ctx, a.classGroupId, "classGroupId");
      const subjectId = id("subjectId", a.subjectId);
      const subgroupId = a.subgroupId
        ? await subgroupOf(ctx, cg.classGroupId, subjectId, a.subgroupId)
        : "";
      const t = termId(a.termId);
      const year = cg.academicYear?.startYear ?? 0;
      if (t.startYear !== year) {
        throw gqlError(
          "BAD_USER_INPUT",
          `termId: the class group's academic year starts in ${year}`,
          "termId",
        );
      }
      const claim = ctx.claims.get(info.path) ?? "";
      const view = await ctx.loaders.journals.load(
        `${cg.classGroupId}|${subjectId}|${year}|${t.term}|${subgroupId}`,
      );
      return { classGroup: cg, subgroupId, subjectId, term: t.term, view, claim };
    },
    diary: async (
      _: unknown,
      a: { studentId: string; from: string; to: string },
      ctx: Ctx,
      info: GraphQLResolveInfo,
    ): Promise<DiaryNode> => {
      const studentId = id("studentId", a.studentId);
      range(a.from, a.to, 366);
      const person = await pupilOf(ctx, studentId);
      const r = await ctx.loaders.diaries.load(`${studentId}|${a.from}|${a.to}`);
      if (!r.diary)
        throw itemError(
          r.error?.code ?? "NOT_FOUND",
          r.error?.message ?? "studentId: no diary",
          "studentId",
        );
      return {
        studentId,
        // Subjects are named from the school holding the pupil now (a pupil who moved keeps
        // the registering school's id; the caller reading the diary may not list its subjects).
        schoolId: person.currentSchoolIds[0] ?? person.schoolId,
        diary: r.diary,
        claim: ctx.claims.get(info.path) ?? "",
      };
    },
    workProgramme: async (_: unknown, a: { id: string }, ctx: Ctx) => {
      const k = workProgrammeId(a.id);
      await school(ctx, k.schoolId);
      const wp = await ctx.loaders.workProgrammes.load(a.id);
      return { key: k, id: a.id, wp };
    },
    dashboard: async (
      _: unknown,
      a: { scope: DashboardScopeInput; period: DashboardPeriodInput; subjectId?: string | null },
      ctx: Ctx,
    ): Promise<DashboardNode> => {
      const scope = await resolveScope(ctx, a.scope);
      const period = periodQuery(ctx, a.period, a.subjectId);
      return loadDashboard(ctx, scope, queryFor(scope, period));
    },
  },
  Me: {
    accountId: (c: Ctx["caller"]) => c.accountId,
    personId: (c: Ctx["caller"]) => c.personId ?? null,
    roles: (c: Ctx["caller"]) =>
      c.grants.map((g) =>
        g.scope.kind === "none" ? g.role : `${g.role}@${g.scope.kind}:${g.scope.id}`,
      ),
    person: (c: Ctx["caller"]): PersonRef | null => (c.personId ? { id: c.personId } : null),
  },
  Region: {
    id: (r: { regionId: string }) => r.regionId,
    municipalities: (_: unknown, __: unknown, ctx: Ctx) => ctx.loaders.municipalities.load("all"),
  },
  Municipality: {
    id: (m: Municipality) => m.municipalityId,
    schools: (m: Municipality, _: unknown, ctx: Ctx) =>
      ctx.loaders.schoolsOfMunicipality.load(m.municipalityId),
  },
  School: {
    id: (s: School) => s.schoolId,
    closedOn: (s: School) => orNull(s.closedOn),
    municipality: async (s: School, _: unknown, ctx: Ctx) =>
      (await ctx.loaders.municipalities.load("all")).find(
        (m) => m.municipalityId === s.municipalityId,
      ) ?? null,
    classGroups: (s: School, _: unknown, ctx: Ctx) =>
      ctx.loaders.classGroupsOfSchool.load(s.schoolId),
  },
  ClassGroup: {
    id: (c: ClassGroup) => c.classGroupId,
    academicYear: (c: ClassGroup) => c.academicYear?.startYear ?? 0,
    name: (c: ClassGroup) => `${c.gradeLevel} ${c.letter}`,
    school: (c: ClassGroup, _: unknown, ctx: Ctx) => ctx.loaders.schools.load(c.schoolId),
    homeroomTeacher: (c: ClassGroup): PersonRef | null =>
      c.homeroomTeacherId ? { id: c.homeroomTeacherId } : null,
    // Pupils carry the claim the policy of ClassGroup.pupils allowed them under.
    pupils: async (
      c: ClassGroup,
      _: unknown,
      ctx: Ctx,
      info: GraphQLResolveInfo,
    ): Promise<PersonRef[]> => {
      const via = ctx.claims.get(info.path);
      const ids = await ctx.loaders.roster.load(c.classGroupId);
      return (via ? await alphabeticalPupils(ctx, ids, via) : ids).map((pid) => ({
        id: pid,
        ...(via ? { via } : {}),
      }));
    },
  },
  Account: accountResolvers,
  Person: {
    id: (p: PersonRef) => p.id,
    kind: async (p: PersonRef, _: unknown, ctx: Ctx) =>
      personKind((await ctx.loaders.people.load(p.id))?.kind ?? 0),
    erased: async (p: PersonRef, _: unknown, ctx: Ctx) =>
      (await ctx.loaders.people.load(p.id))?.erased ?? false,
    name: async (p: PersonRef, _: unknown, ctx: Ctx) => {
      const d = await personalData(p, ctx);
      return d ? [d.familyName, d.givenName, d.patronymic].filter(Boolean).join(" ") : null;
    },
    familyName: async (p: PersonRef, _: unknown, ctx: Ctx) =>
      (await personalData(p, ctx))?.familyName ?? null,
    givenName: async (p: PersonRef, _: unknown, ctx: Ctx) =>
      (await personalData(p, ctx))?.givenName ?? null,
    patronymic: async (p: PersonRef, _: unknown, ctx: Ctx) =>
      (await personalData(p, ctx))?.patronymic ?? null,
    birthDate: async (p: PersonRef, _: unknown, ctx: Ctx) =>
      orNull((await personalData(p, ctx))?.birthDate ?? ""),
    namesOnly: async (p: PersonRef, _: unknown, ctx: Ctx) => {
      const person = await ctx.loaders.personalData.load(p.id);
      return person?.personalData && !person.erased ? person.personalDataNamesOnly : null;
    },
  },
  Journal: {
    classGroup: (j: JournalNode) => j.classGroup,
    subgroupId: (j: JournalNode) => orNull(j.subgroupId),
    subject: (j: JournalNode, _: unknown, ctx: Ctx) =>
      subject(ctx, j.classGroup.schoolId, j.subjectId),
    lessons: (j: JournalNode) => j.view.lessons.map((l) => ({ ...l, id: l.lessonId })),
    rows: async (j: JournalNode, _: unknown, ctx: Ctx): Promise<JournalRowNode[]> =>
      (await alphabeticalPupils(ctx, j.view.studentIds, j.claim)).map((pupilId) => ({
        pupilId,
        journal: j,
      })),
    exemptions: (j: JournalNode, _: unknown, ctx: Ctx) =>
      j.view.exemptions.map((e) => exemption(e, j.classGroup.schoolId, j.claim, ctx)),
  },
  JournalRow: {
    pupil: (r: JournalRowNode): PersonRef => ({ id: r.pupilId, via: r.journal.claim }),
    marks: (r: JournalRowNode) =>
      r.journal.view.marks
        .filter((m) => m.studentId === r.pupilId)
        .map((m) => ({ ...m, id: m.markId, value: markValue(m.value) })),
    absences: (r: JournalRowNode) =>
      r.journal.view.absences.filter((a) => a.studentId === r.pupilId).map(absence),
    weightedAverage: (r: JournalRowNode) =>
      orNull(
        r.journal.view.averages.find((a) => a.studentId === r.pupilId && a.term === r.journal.term)
          ?.weightedAverage ?? "",
      ),
    termMark: (r: JournalRowNode) => {
      const t: TermMark | undefined = r.journal.view.termMarks.find(
        (m) => m.studentId === r.pupilId && m.term === r.journal.term,
      );
      return t ? markValue(t.value) : null;
    },
  },
  Diary: {
    student: (d: DiaryNode): PersonRef => ({
      id: d.studentId,
      ...(d.claim ? { via: d.claim } : {}),
    }),
    lessons: (d: DiaryNode, _: unknown, ctx: Ctx) =>
      d.diary.lessons.map((l) => ({
        ...l,
        id: l.lessonId,
        homeworkDue: orNull(l.homeworkDue),
        subject: () => subject(ctx, d.schoolId, l.subjectId),
      })),
    marks: (d: DiaryNode, _: unknown, ctx: Ctx) =>
      d.diary.marks.map((m) => ({
        ...m,
        id: m.markId,
        value: markValue(m.value),
        subject: () => subject(ctx, d.schoolId, m.subjectId),
      })),
    absences: (d: DiaryNode) => d.diary.absences.map(absence),
    averages: (d: DiaryNode, _: unknown, ctx: Ctx) =>
      d.diary.averages.map((a) => ({
        term: a.term,
        weightedAverage: orNull(a.weightedAverage),
        roundedMark: a.roundedMark === 0 ? null : a.roundedMark,
        subject: () => subject(ctx, d.schoolId, a.subjectId),
      })),
    exemptions: (d: DiaryNode, _: unknown, ctx: Ctx) =>
      d.diary.exemptions.map((e) => exemption(e, d.schoolId, d.claim, ctx)),
  },
  WorkProgramme: {
    version: (w: WpNode) => w.wp.version,
    versions: (w: WpNode) => w.wp.versions,
    approved: (w: WpNode) => w.wp.approvedBy !== "",
    gradeLevel: (w: WpNode) => w.key.gradeLevel,
    subject: (w: WpNode, _: unknown, ctx: Ctx) => subject(ctx, w.key.schoolId, w.key.subjectId),
    items: (w: WpNode) => w.wp.items,
  },
  Dashboard: {
    term: (d: DashboardNode) => d.dashboard.term,
    from: (d: DashboardNode) => d.dashboard.from,
    to: (d: DashboardNode) => d.dashboard.to,
    name: (d: DashboardNode) => d.name ?? null,
    pupilCount: (d: DashboardNode) => figure(headlineFigures(d.dashboard).pupilCount),
    passRate: (d: DashboardNode) => figure(headlineFigures(d.dashboard).passRate),
    qualityRate: (d: DashboardNode) =>
      figure(d.dashboard.quality ?? d.dashboard.allSubjects?.qualityRate),
    degreeOfLearning: (d: DashboardNode) => figure(d.dashboard.performance?.degreeOfLearning),
    averageMark: (d: DashboardNode) => figure(d.dashboard.performance?.average),
    weightedAverageMark: (d: DashboardNode) => figure(d.dashboard.performance?.weightedAverage),
    markDistribution: (d: DashboardNode) => {
      const p = d.dashboard.performance;
      return p?.results ? { ...p.results, definition: p.distributionDefinition } : null;
    },
    attendanceRate: (d: DashboardNode) => figure(d.dashboard.attendance?.attendanceRate),
    missedLessons: (d: DashboardNode) => d.dashboard.attendance?.missedLessons ?? null,
    missedDays: (d: DashboardNode) => d.dashboard.attendance?.missedDays ?? null,
    journalFillRate: (d: DashboardNode) => figure(d.dashboard.journal?.fillRate),
    timeliness: (d: DashboardNode) => figure(d.dashboard.journal?.timeliness),
    programmeDelivery: (d: DashboardNode) => figure(d.dashboard.programmeDelivery),
    definitionVersion: (d: DashboardNode) => definitionVersion(d.dashboard),
    asOf: (d: DashboardNode, _: unknown, ctx: Ctx) =>
      d.query.asOf || ([d.dashboard.to, ctx.today].sort()[0] as string),
    // Only the children the matrix lets the caller see; all fetched in one GetDashboards.
    children: async (d: DashboardNode, _: unknown, ctx: Ctx): Promise<DashboardNode[]> => {
      const scopes = await childScopes(ctx, d);
      const allowed = await Promise.all(
        scopes.map((s) =>
          readDashboard(ctx, s.level, s).then(
            () => true,
            () => false,
          ),
        ),
      );
      const { level: _l, scopeId: _s, ...period } = d.query;
      return Promise.all(
        scopes.filter((_, i) => allowed[i]).map((s) => loadDashboard(ctx, s, queryFor(s, period))),
      );
    },
  },
};

interface WpNode {
  id: string;
  key: ReturnType<typeof workProgrammeId>;
  wp: {
    version: number;
    versions: number;
    approvedBy: string;
    items: { topic: string; hours: number }[];
  };
}
