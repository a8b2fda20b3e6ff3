import type { Metadata, ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import {
  type CurriculumServiceServer,
  CurriculumServiceService,
} from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
  type AuthServiceServer,
  AuthServiceService,
} from "@otmetka/proto/identity/v1/auth_service";
import {
  type IdentityServiceServer,
  IdentityServiceService,
} from "@otmetka/proto/identity/v1/identity_service";
import {
  type Dashboard,
  type ReportingServiceServer,
  ReportingServiceService,
} from "@otmetka/proto/reporting/v1/reporting_service";
import {
  type Caller,
  createLogger,
  type GrpcServer,
  hasRole,
  parseRoleClaim,
  type Role,
  startGrpcServer,
} from "@otmetka/service-kit";
import { REPORTING_MAX_BATCH } from "../backends/loaders.js";
import {
  ACCOUNTS,
  CLASS_GROUPS,
  EXEMPTIONS,
  F,
  type FixturePerson,
  PEOPLE,
  ROSTERS,
  SUBGROUPS,
  TEACHING,
} from "./fixture.js";

/*
 * Stand-ins for identity, curriculum and reporting over real gRPC, answering from the fixture.
 * They count calls per method (the journal test's budget) and record the bearer token each
 * call carried (the gateway forwards the caller's). Authorization is the gateway's here: the
 * real services check again on their side and are covered by their own suites.
 */
export interface FakeServices {
  address: string;
  calls: Map<string, number>;
  /** Authorization headers seen, in order. */
  tokens: string[];
  /** `traceparent` headers seen, in order (empty when a call carried none). */
  traceparents: string[];
  /** Milliseconds a method waits before it answers (a hung service). */
  delays: Map<string, number>;
  /** A gRPC status a method answers instead of its fixture (a failing service). */
  failures: Map<string, { code: number; details: string }>;
  /** The last request of each command method (what a mutation's input became). */
  requests: Map<string, unknown>;
  /** Curriculum's teaching assignments now (the fixture's TEACHING): a test may remove or end one. */
  teaching: {
    teacherId: string;
    classGroupId: string;
    subjectId: string;
    /** A subgroup's assignment; absent: the whole class group's. */
    subgroupId?: string;
    lastDay?: string;
  }[];
  /** Identity's guardian links now, guardian → children: a test may end one. */
  guardianChildren: Map<string, string[]>;
  /** Identity's homeroom teachers now, class group → teacher (AssignHomeroomTeacher). */
  homerooms: Map<string, string>;
  /** Identity's current schools of a person when a test moved them (else the fixture's). */
  currentSchools: Map<string, string[]>;
  totalCalls(): number;
  reset(): void;
  stop(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: each fake method reads its own request type
type AnyRequest = any;
type Handler = (request: AnyRequest, md: Metadata) => unknown;

function unary(name: string, f: FakeServices, fn: Handler) {
  return (
    call: { request: AnyRequest; metadata: Metadata },
    cb: (err: ServiceError | null, res?: AnyRequest) => void,
  ) => {
    f.calls.set(name, (f.calls.get(name) ?? 0) + 1);
    f.tokens.push(String(call.metadata.get("authorization")[0] ?? ""));
    f.traceparents.push(String(call.metadata.get("traceparent")[0] ?? ""));
    new Promise((r) => setTimeout(r, f.delays.get(name) ?? 0))
      .then(() => {
        const failure = f.failures.get(name);
        if (failure) throw grpcError(failure.code, failure.details);
        return fn(call.request, call.metadata);
      })
      .then(
        (res) => cb(null, res),
        (err) => cb(err as ServiceError),
      );
  };
}

/** Curriculum's subjects (regional: every school lists them). */
const SUBJECTS = {
  subjects: [
    { subjectId: "math", code: "math", name: "Математика", grading: 0, schoolId: "" },
    { subjectId: "rus", code: "rus", name: "Русский язык", grading: 0, schoolId: "" },
    { subjectId: "pe", code: "pe", name: "Физическая культура", grading: 0, schoolId: "" },
  ],
};

const homeroomsOfFixture = () =>
  new Map(CLASS_GROUPS.flatMap((c) => (c.homeroom ? [[c.id, c.homeroom] as const] : [])));

/** The call's caller from its bearer token's claims (the gateway verified it already). */
function tokenCaller(md: Metadata): Caller {
  const bearer = String(md.get("authorization")[0] ?? "");
  const payload = bearer.split(".")[1] ?? "";
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString() || "{}") as {
    sub?: string;
    pid?: string;
    roles?: string[];
  };
  return {
    kind: "user",
    accountId: claims.sub ?? "",
    ...(claims.pid ? { personId: claims.pid } : {}),
    grants: (claims.roles ?? []).map(parseRoleClaim),
    token: bearer,
  };
}

const currentSchoolsOf = (f: FakeServices, p: FixturePerson) =>
  f.currentSchools.get(p.id) ?? p.currentSchools ?? [p.schoolId];

/**
 * Identity's readers of a person's current_school_ids (peopleAccess): the person, a linked
 * guardian, a personal-data role over one of their current or former schools; anyone else
 * gets none.
 */
function readerOfSchools(
  f: FakeServices,
  caller: Caller,
  p: FixturePerson,
  municipalityOf: (schoolId: string) => string,
): boolean {
  if (caller.personId === p.id) return true;
  const guardian = caller.personId && hasRole(caller, "GUARDIAN");
  if (guardian && f.guardianChildren.get(caller.personId ?? "")?.includes(p.id)) return true;
  const current = currentSchoolsOf(f, p);
  const schools = current.includes(p.schoolId) ? current : [...current, p.schoolId];
  return PERSONAL_DATA_ROLES.some((role) =>
    schools.some((schoolId) =>
      hasRole(caller, role, {
        schoolId,
        municipalityId: municipalityOf(schoolId),
        regionId: F.region,
      }),
    ),
  );
}

/** identity's ROLES_OF.personalData. */
const PERSONAL_DATA_ROLES: Role[] = [
  "PLATFORM_ADMIN",
  "SERVICE",
  "MINISTRY_OFFICER",
  "MUNICIPAL_OFFICER",
  "SCHOOL_ADMIN",
  "TEACHER",
];

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(details), {
    code,
    details,
    metadata: undefined,
  }) as unknown as ServiceError;

/** Refuses a batch over reporting's limit whole, as reporting does (INVALID_ARGUMENT naming the field). */
function withinBatchLimit<T>(field: string, items: T[]): T[] {
  if (items.length > REPORTING_MAX_BATCH)
    throw grpcError(
      status.INVALID_ARGUMENT,
      `${field}: at most ${REPORTING_MAX_BATCH} items a call, got ${items.length}`,
    );
  return items;
}

const figure = (value: number, definition: string) => ({
  value,
  numerator: value * 10,
  denominator: 10,
  definition,
});

/**
 * Reporting's figures over all subjects (a dashboard naming no subject): 28 pupils, not the 30
 * pupil-subject results of `performance`, so a test tells which the gateway shows.
 */
export const ALL_SUBJECTS = {
  pupilCount: figure(28, "all_subjects.pupil_count.v1"),
  passRate: figure(0.8, "all_subjects.pass_rate.v1"),
  qualityRate: figure(0.5, "quality_rate.per_pupil.v1"),
};

export function dashboardOf(term: number): Dashboard {
  return {
    term,
    from: "2026-09-01",
    to: "2026-10-31",
    basis: 1,
    definitionVersion: 1,
    asOfMode: 0,
    performance: {
      pupilCount: figure(30, "pupil_count.v1"),
      passRate: figure(0.9, "pass_rate.v1"),
      qualityPerPupil: figure(0.5, "quality_rate.per_pupil.v1"),
      qualityPerMark: figure(0.6, "quality_rate.per_mark.v1"),
      degreeOfLearning: figure(0.64, "sou.v1"),
      average: figure(4.1, "average_mark.v1"),
      weightedAverage: figure(4.2, "weighted_average.v1"),
      distributionDefinition: "mark_distribution.v1",
      results: { one: 0, two: 3, three: 12, four: 10, five: 5, pass: 0, fail: 0, notAttested: 0 },
      entries: { one: 0, two: 1, three: 2, four: 3, five: 4, pass: 0, fail: 0, notAttested: 0 },
    },
    quality: figure(0.5, "quality_rate.per_pupil.v1"),
    attendance: {
      attendanceRate: figure(0.95, "attendance_rate.v1"),
      missedLessons: {
        total: 10,
        illness: 5,
        excused: 3,
        unexcused: 2,
        definition: "missed_lessons.v1",
      },
      missedDays: { total: 2, illness: 1, excused: 1, unexcused: 0, definition: "missed_days.v1" },
      lateArrivals: 1,
      lateMinutes: 5,
      latenessDefinition: "lateness.v1",
    },
    journal: {
      fillRate: figure(0.99, "journal_fill_rate.v1"),
      timeliness: figure(0.8, "entry_timeliness.v1"),
      medianDelayDays: 0,
      medianDelayDefinition: "entry_median_delay.v1",
    },
  };
}

export async function startFakeServices(): Promise<FakeServices> {
  const f: FakeServices = {
    address: "",
    calls: new Map(),
    tokens: [],
    traceparents: [],
    delays: new Map(),
    failures: new Map(),
    requests: new Map(),
    teaching: TEACHING.map((t) => ({ ...t })),
    guardianChildren: new Map([[F.g1, [F.p1]]]),
    homerooms: homeroomsOfFixture(),
    currentSchools: new Map(),
    totalCalls: () => [...f.calls.values()].reduce((a, b) => a + b, 0),
    reset() {
      f.calls.clear();
      f.tokens.length = 0;
      f.requests.clear();
      f.traceparents.length = 0;
    },
    stop: async () => {},
  };
  const schools = [
    { schoolId: F.s1, municipalityId: F.m1, name: "School 1" },
    { schoolId: F.s2, municipalityId: F.m2, name: "School 2" },
  ].map((s) => ({
    ...s,
    shortName: s.name,
    address: "",
    timeZone: "Asia/Yekaterinburg",
    inn: "",
    ogrn: "",
    closedOn: "",
  }));
  const classGroups = CLASS_GROUPS.map((c) => ({
    classGroupId: c.id,
    schoolId: c.schoolId,
    municipalityId: c.municipalityId,
    academicYear: { startYear: F.year },
    gradeLevel: 5,
    letter: c.letter,
    closed: false,
  }));
  const municipalityOf = (schoolId: string) =>
    schools.find((s) => s.schoolId === schoolId)?.municipalityId ?? "";
  const u = (name: string, fn: Handler) => unary(name, f, fn);

  const identity: Partial<IdentityServiceServer> = {
    // A command, for the staff mutations: kept as received, answered as a first run.
    unassignStaffFromSchool: u("UnassignStaffFromSchool", (r) => {
      f.requests.set("UnassignStaffFromSchool", r);
      return {};
    }),
    getRegion: u("GetRegion", () => ({ regionId: F.region, name: "Челябинская область" })),
    listMunicipalities: u("ListMunicipalities", () => ({
      municipalities: [
        { municipalityId: F.m1, name: "Municipality 1" },
        { municipalityId: F.m2, name: "Municipality 2" },
      ],
    })),
    getSchools: u("GetSchools", (r: { schoolIds: string[]; municipalityId: string }) => ({
      schools: schools.filter((s) =>
        r.schoolIds.length
          ? r.schoolIds.includes(s.schoolId)
          : !r.municipalityId || s.municipalityId === r.municipalityId,
      ),
    })),
    getClassGroups: u("GetClassGroups", (r: { classGroupIds: string[]; schoolId: string }) => ({
      classGroups: classGroups
        .filter((c) =>
          r.classGroupIds.length
            ? r.classGroupIds.includes(c.classGroupId)
            : c.schoolId === r.schoolId,
        )
        .map((c) => ({ ...c, homeroomTeacherId: f.homerooms.get(c.classGroupId) ?? "" })),
    })),
    getPeople: u("GetPeople", (r: { personIds: string[]; includePersonalData: boolean }, md) => ({
      people: PEOPLE.filter((p) => r.personIds.includes(p.id)).map((p) => ({
        personId: p.id,
        kind: p.kind,
        schoolId: p.schoolId,
        municipalityId: p.municipalityId,
        erased: p.erased ?? false,
        legalHold: false,
        portalConsent: false,
        portalId: "",
        currentSchoolIds: readerOfSchools(f, tokenCaller(md), p, municipalityOf)
          ? currentSchoolsOf(f, p)
          : [],
        personalDataNamesOnly: r.includePersonalData && !p.erased && (p.namesOnly ?? false),
        ...(r.includePersonalData && !p.erased
          ? {
              personalData: {
                familyName: p.familyName,
                givenName: "Имя",
                patronymic: "",
                birthDate: p.namesOnly ? "" : "2015-03-01",
                sex: 0,
                snils: "",
                contacts: [],
              },
            }
          : {}),
      })),
    })),
    getRoster: u("GetRoster", (r: { classGroupId: string }) => ({
      personIds: ROSTERS[r.classGroupId] ?? [],
    })),
    getSubgroupRoster: u("GetSubgroupRoster", (r: { subgroupId: string }) => {
      const s = SUBGROUPS[r.subgroupId];
      return s
        ? {
            personIds: s.members,
            classGroupId: s.classGroupId,
            subjectId: s.subjectId,
            name: s.name,
          }
        : { personIds: [], classGroupId: "", subjectId: "", name: "" };
    }),
    getGuardianChildren: u("GetGuardianChildren", (r: { guardianId: string }) => ({
      studentIds: f.guardianChildren.get(r.guardianId) ?? [],
    })),
  };

  const curriculum: Partial<CurriculumServiceServer> = {
    // A command, for the typed mutations: kept as received, answered as a first run.
    conductLesson: u("ConductLesson", (r) => {
      f.requests.set("ConductLesson", r);
      return { replayed: false };
    }),
    endTeacherAssignment: u("EndTeacherAssignment", (r) => {
      f.requests.set("EndTeacherAssignment", r);
      return { replayed: false };
    }),
    getTimetable: u("GetTimetable", (r: { schoolId: string; teacherId: string }) => ({
      slots: [],
      assignments: f.teaching
        .filter(
          (t) =>
            t.teacherId === r.teacherId &&
            classGroups.find((c) => c.classGroupId === t.classGroupId)?.schoolId === r.schoolId,
        )
        .map((t, i) => ({ assignmentId: `a${i}`, subgroupId: "", lastDay: "", ...t })),
    })),
    // As curriculum: staff of another school (and no broader grant) may not list a school's subjects.
    listSubjects: u("ListSubjects", (r: { schoolId: string }, md: Metadata) => {
      const { grants } = tokenCaller(md);
      const otherSchoolsStaff =
        grants.length > 0 &&
        grants.every((g) => g.scope.kind === "school" && g.scope.id !== r.schoolId);
      if (otherSchoolsStaff)
        throw grpcError(status.PERMISSION_DENIED, `school_id: not a school of the caller`);
      return SUBJECTS;
    }),
    getWorkProgramme: u("GetWorkProgramme", (r: { schoolId: string }) => {
      if (!schools.some((s) => s.schoolId === r.schoolId))
        throw grpcError(status.NOT_FOUND, "school_id: unknown");
      return {
        version: 1,
        versions: 1,
        items: [{ itemId: "v1.1", topic: "Дроби", hours: 2 }],
        authorId: F.t1,
        approvedBy: F.t1,
      };
    }),
  };

  const reporting: Partial<ReportingServiceServer> = {
    getJournalView: u(
      "GetJournalView",
      (r: { classGroupId: string; subjectId: string; subgroupId: string; term: number }) => {
        const ids = r.subgroupId
          ? (SUBGROUPS[r.subgroupId]?.members ?? [])
          : (ROSTERS[r.classGroupId] ?? []);
        return {
          studentIds: ids,
          lessons: [
            {
              lessonId: "l1",
              date: "2026-09-02",
              period: 1,
              status: "CONDUCTED",
              topic: "Дроби",
              homework: "№1",
              attendanceTaken: true,
            },
          ],
          marks: ids.map((s, i) => ({
            markId: `mk${i}`,
            lessonId: "l1",
            studentId: s,
            value: 5,
            weight: 1,
            workType: "classwork",
            term: r.term,
          })),
          absences: [],
          averages: ids.map((s) => ({
            studentId: s,
            subjectId: "math",
            term: r.term,
            weightedAverage: "5.00",
            roundedMark: 5,
          })),
          termMarks: [],
          exemptions: EXEMPTIONS.filter(
            (e) => ids.includes(e.studentId) && e.subjectId === r.subjectId,
          ),
        };
      },
    ),
    getDiaries: u("GetDiaries", (r: { studentIds: string[]; from: string; to: string }) => ({
      results: withinBatchLimit("studentIds", r.studentIds).map((studentId) => ({
        studentId,
        diary: {
          studentId,
          lessons: [
            {
              lessonId: "l1",
              date: "2026-09-02",
              period: 1,
              subjectId: "math",
              classGroupId: F.c1,
              subgroupId: "",
              status: "CONDUCTED",
              topic: "Дроби",
              homework: "№1",
              homeworkDue: "2026-09-03",
            },
          ],
          marks: [
            {
              markId: "mk1",
              lessonId: "l1",
              date: "2026-09-02",
              subjectId: "math",
              term: 1,
              value: 4,
              weight: 1,
              workType: "classwork",
            },
          ],
          absences: [],
          averages: [
            { studentId, subjectId: "math", term: 1, weightedAverage: "4.00", roundedMark: 4 },
          ],
          termMarks: [],
          exemptions: EXEMPTIONS.filter(
            (e) => e.studentId === studentId && e.firstDay <= r.to && e.lastDay >= r.from,
          ),
        },
      })),
    })),
    getDashboards: u("GetDashboards", (r: { queries: { term?: number; subjectId?: string }[] }) => {
      f.requests.set("GetDashboards", r);
      return {
        results: withinBatchLimit("queries", r.queries).map((query) => ({
          query,
          dashboard: query.subjectId
            ? dashboardOf(query.term ?? 0)
            : { ...dashboardOf(query.term ?? 0), allSubjects: ALL_SUBJECTS },
        })),
      };
    }),
  };

  // Account administration only (login, refresh and logout stay unimplemented here).
  const auth: Partial<AuthServiceServer> = {
    listAccounts: u("ListAccounts", (r: { schoolId: string }) => ({
      accounts: ACCOUNTS.filter(
        (a) => PEOPLE.find((p) => p.id === a.personId)?.schoolId === r.schoolId,
      ),
      nextPageToken: "",
    })),
    disableAccount: u("DisableAccount", () => ({})),
    enableAccount: u("EnableAccount", () => ({})),
    deleteAccount: u("DeleteAccount", () => ({})),
  };

  const server: GrpcServer = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    graceMs: 0,
    drainTimeoutMs: 100,
    logger: createLogger({ service: "fake-services", level: "silent" }),
    services: [
      { definition: IdentityServiceService, implementation: identity as IdentityServiceServer },
      { definition: AuthServiceService, implementation: auth as AuthServiceServer },
      {
        definition: CurriculumServiceService,
        implementation: curriculum as CurriculumServiceServer,
      },
      { definition: ReportingServiceService, implementation: reporting as ReportingServiceServer },
    ],
  });
  f.address = `127.0.0.1:${server.port}`;
  f.stop = () => server.shutdown();
  return f;
}
