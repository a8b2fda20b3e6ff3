import {
  ConductLessonRequest,
  EndTeacherAssignmentRequest,
} from "@otmetka/proto/curriculum/v1/curriculum_service";
import { UnassignStaffFromSchoolRequest } from "@otmetka/proto/identity/v1/identity_service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import {
  type GatewayHarness,
  type GraphQLAnswer,
  startGatewayHarness,
} from "../test-support/harness.js";
import { commandOperation } from "./typed.js";

/*
 * The gateway's own checks of commands, over the fake read services (grades is not connected
 * here, so a command the gateway lets through answers UNAVAILABLE; the e2e test runs them for
 * real). Every refusal is typed and reaches no service.
 */
const codeOf = (a: GraphQLAnswer) => a.body.errors?.[0]?.extensions?.code;
const fieldOf = (a: GraphQLAnswer) => a.body.errors?.[0]?.extensions?.field;

const journal = { classGroupId: F.c1, subjectId: "math", academicYear: { startYear: 2026 } };
const mark = { studentId: F.p1, value: "MARK_VALUE_FIVE", workType: "ORAL" };
const lesson = {
  schoolId: F.s1,
  academicYear: { startYear: 2026 },
  classGroupId: F.c1,
  lessonId: "l1",
  topic: "Дроби",
};
const RECORD = commandOperation("recordMark");

describe("mutations", () => {
  let h: GatewayHarness;
  let teacher: string;
  beforeAll(async () => {
    h = await startGatewayHarness({});
    teacher = await h.token([`TEACHER@school:${F.s1}`], F.t1);
  });
  afterAll(() => h?.close());

  const record = (token: string | undefined, input: unknown, c = "cmd-1") =>
    h.query(token, RECORD, { c, i: input });

  /** A command's input refused by the gateway: BAD_USER_INPUT naming `path`, no service called. */
  async function expectInputRefused(
    token: string | undefined,
    field: string,
    input: unknown,
    path: string,
    message = "",
  ) {
    h.fakes.reset();
    const a = await h.query(token, commandOperation(field), { c: "cmd-1", i: input });
    const what = `${field} ${path}`;
    expect.soft(a.status, what).toBeLessThan(500);
    expect.soft(a.body.data, what).toBeUndefined();
    expect.soft([codeOf(a), fieldOf(a)], what).toEqual(["BAD_USER_INPUT", path]);
    expect
      .soft(a.body.errors?.[0]?.message, what)
      .toMatch(new RegExp(`^${path.replace(/[[\].]/g, "\\$&")}: ${message}`));
    expect.soft(h.fakes.totalCalls(), what).toBe(0);
  }

  it("refuses malformed input naming the field, before any service call", async () => {
    const before = h.fakes.totalCalls();
    const cases: [unknown, string, string][] = [
      [[1, 2], "BAD_USER_INPUT", "input"],
      [{ journal, lessonId: "l1", mark, grade: 5 }, "BAD_USER_INPUT", "input.grade"],
      [{ journal, lessonId: "l1", mark, commandId: "x" }, "BAD_USER_INPUT", "input.commandId"],
      [
        { journal, lessonId: "l1", mark: { ...mark, value: "SIX" } },
        "BAD_USER_INPUT",
        "input.mark.value",
      ],
      [
        { journal, lessonId: "l1", mark: { ...mark, value: 9 } },
        "BAD_USER_INPUT",
        "input.mark.value",
      ],
    ];
    for (const [input, code, field] of cases) {
      const a = await record(teacher, input);
      expect(codeOf(a)).toBe(code);
      if (field) expect(fieldOf(a)).toBe(field);
    }
    const badId = await record(teacher, { journal, lessonId: "l1", mark }, "bad id!");
    expect([codeOf(badId), fieldOf(badId)]).toEqual(["BAD_USER_INPUT", "commandId"]);
    expect(h.fakes.totalCalls()).toBe(before);
  });

  it("refuses nested fields and values proto's fromJSON would coerce or drop, naming the path, before any service call", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const open = { schoolId: F.s1, academicYear: { startYear: 2026 }, gradeLevel: 5, letter: "В" };
    const cases: [string, string, unknown, string][] = [
      // A misspelt nested field used to become its default (a mark without its comment, a
      // subgroup's mark in the whole class's journal) and a snake_case journal.class_group_id
      // slipped past the early scope check.
      [
        "recordMark",
        admin,
        { journal, lessonId: "l1", mark: { ...mark, coment: "x" } },
        "input.mark.coment",
      ],
      [
        "recordMark",
        admin,
        { journal: { ...journal, subgroupID: "sg1" }, lessonId: "l1", mark },
        "input.journal.subgroupID",
      ],
      // Typed now: the journal's classGroupId is required, and class_group_id no field of it.
      [
        "recordMark",
        teacher,
        { journal: { class_group_id: F.c2, subjectId: "math" }, lessonId: "l1", mark },
        "input.journal.classGroupId",
      ],
      [
        "recordMark",
        teacher,
        { journal: { ...journal, class_group_id: F.c2 }, lessonId: "l1", mark },
        "input.journal.class_group_id",
      ],
      // Wrong JSON types: String({}) is "[object Object]", a string is an empty message.
      ["renameSchool", admin, { schoolId: F.s1, name: {}, shortName: "Ш" }, "input.name"],
      ["renameSchool", admin, { schoolId: F.s1, name: ["a"], shortName: "Ш" }, "input.name"],
      ["recordMark", admin, { journal: "c1", lessonId: "l1", mark }, "input.journal"],
      // (A single value where a list belongs is a list of one in GraphQL: accepted.)
      [
        "defineTermSystem",
        admin,
        { schoolId: F.s1, academicYear: { startYear: 2026 }, gradeLevels: {} },
        "input.gradeLevels",
      ],
      ["recordMarks", admin, { journal, lessonId: "l1", marks: [mark, null] }, "input.marks[1]"],
      [
        "recordMarks",
        admin,
        { journal, lessonId: "l1", marks: [mark, { ...mark, studentId: true }] },
        "input.marks[1].studentId",
      ],
      // Numbers no int32 holds failed the gateway's own serialization: INTERNAL before.
      ["openClassGroup", admin, { ...open, gradeLevel: 1.5 }, "input.gradeLevel"],
      ["openClassGroup", admin, { ...open, gradeLevel: "five" }, "input.gradeLevel"],
      ["openClassGroup", admin, { ...open, gradeLevel: 1e20 }, "input.gradeLevel"],
      [
        "openClassGroup",
        admin,
        { ...open, academicYear: { startYear: -2147483649 } },
        "input.academicYear.startYear",
      ],
      [
        "defineTermSystem",
        admin,
        { schoolId: F.s1, academicYear: { startYear: 2026 }, gradeLevels: [5, {}] },
        "input.gradeLevels[1]",
      ],
      // A NUL PostgreSQL cannot store, and a string past any school text.
      ["renameSchool", admin, { schoolId: F.s1, name: "a\u0000b", shortName: "Ш" }, "input.name"],
      [
        "renameSchool",
        admin,
        { schoolId: F.s1, name: "я".repeat(10_001), shortName: "Ш" },
        "input.name",
      ],
    ];
    for (const [field, token, input, path] of cases) {
      h.fakes.reset();
      const a = await h.query(token, commandOperation(field), { c: "cmd-1", i: input });
      expect
        .soft([codeOf(a), fieldOf(a)], `${field} ${path} ${JSON.stringify(input).slice(0, 80)}`)
        .toEqual(["BAD_USER_INPUT", path]);
      expect
        .soft(a.body.errors?.[0]?.message)
        .toMatch(new RegExp(`^${path.replace(/[[\].]/g, "\\$&")}: `));
      expect
        .soft(h.fakes.totalCalls(), `${field} ${path} ${JSON.stringify(input).slice(0, 80)}`)
        .toBe(0);
    }
    // In range and of the right types it passes the gateway.
    const ok = await h.query(admin, commandOperation("openClassGroup"), {
      c: "c",
      i: { ...open, letter: "я".repeat(10_000) },
    });
    expect(codeOf(ok)).not.toBe("BAD_USER_INPUT");
  });

  it("typed inputs: a value off an enum, a missing or unknown field is a validation error naming its path, reaching no service", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const cases: [string, unknown, string][] = [
      [
        "recordMark",
        { journal, lessonId: "l1", mark: { ...mark, value: "MARK_VALUE_SIX" } },
        "input.mark.value",
      ],
      // UNSPECIFIED is proto's default, never a mark: not a value of the GraphQL enum.
      [
        "recordMark",
        { journal, lessonId: "l1", mark: { ...mark, value: "MARK_VALUE_UNSPECIFIED" } },
        "input.mark.value",
      ],
      ["recordMark", { journal, mark }, "input.lessonId"],
      [
        "recordMark",
        { journal: { ...journal, academicYear: {} }, lessonId: "l1", mark },
        "input.journal.academicYear.startYear",
      ],
      [
        "recordMarks",
        { journal, lessonId: "l1", marks: [mark, { value: "MARK_VALUE_TWO" }] },
        "input.marks[1].studentId",
      ],
      ["correctMark", { journal, markId: "m1", value: "MARK_VALUE_FOUR" }, "input.reason"],
      [
        "recordAttendance",
        { journal, lessonId: "l1", absences: [{ studentId: F.p1, reason: "ILL" }] },
        "input.absences[0].reason",
      ],
      ["assignTermMark", { journal, studentId: F.p1, value: "MARK_VALUE_FIVE" }, "input.term"],
      [
        "grantExemption",
        { journal, studentId: F.p1, firstDay: "2026-02-30", lastDay: "2026-03-01", reason: "x" },
        "input.firstDay",
      ],
      ["closeTerm", { term: "one", reason: "конец четверти" }, "input.term"],
      [
        "setWorkTypeWeights",
        { schoolId: F.s1, weights: [{ workType: "TEST" }] },
        "input.weights[0].weight",
      ],
      ["conductLesson", { ...lesson, topic: undefined }, "input.topic"],
    ];
    for (const [field, input, path] of cases) await expectInputRefused(admin, field, input, path);
    // Written in the document instead of a variable: the same, located in the document.
    h.fakes.reset();
    const literal = await h.query(
      teacher,
      `mutation { recordMark(commandId: "c", input: { journal: { classGroupId: "${F.c1}", subjectId: "math", academicYear: { startYear: 2026 } }, lessonId: "l1", mark: { studentId: "${F.p1}", value: SIX } }) { markId } }`,
    );
    expect([codeOf(literal), fieldOf(literal)]).toEqual(["BAD_USER_INPUT", "input.mark.value"]);
    expect(literal.body.errors?.[0]?.locations).toHaveLength(1);
    const missing = await h.query(
      teacher,
      `mutation { recordMark(commandId: "c", input: { journal: { classGroupId: "${F.c1}", subjectId: "math", academicYear: {} }, lessonId: "l1", mark: { studentId: "${F.p1}", value: MARK_VALUE_TWO } }) { markId } }`,
    );
    expect([codeOf(missing), fieldOf(missing)]).toEqual([
      "BAD_USER_INPUT",
      "input.journal.academicYear.startYear",
    ]);
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("a JSONObject variable for a typed command (the old API) is refused naming input; the gateway's own checks stay", async () => {
    h.fakes.reset();
    const old = await h.query(
      teacher,
      `mutation M($i: JSONObject!) { recordMark(commandId: "c", input: $i) { markId } }`,
      { i: { journal, lessonId: "l1", mark } },
    );
    expect([codeOf(old), fieldOf(old)]).toEqual(["BAD_USER_INPUT", "input"]);
    expect(old.body.errors?.[0]?.message).toMatch(/RecordMarkInput!/);
    // What GraphQL's String lets through and no service stores: a NUL, a text past any school's.
    for (const comment of ["a\u0000b", "я".repeat(10_001)]) {
      const a = await record(teacher, { journal, lessonId: "l1", mark: { ...mark, comment } });
      expect([codeOf(a), fieldOf(a)]).toEqual(["BAD_USER_INPUT", "input.mark.comment"]);
    }
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("administrative commands' typed inputs (from the protos): a wrong type, a value off an enum, a missing required or unknown field is a validation error naming its path, reaching no service", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const open = { schoolId: F.s1, academicYear: { startYear: 2026 }, gradeLevel: 5, letter: "В" };
    const person = {
      kind: "PERSON_KIND_STUDENT",
      schoolId: F.s1,
      personalData: { familyName: "Ф", givenName: "И", birthDate: "2015-03-01", sex: "SEX_MALE" },
    };
    const cases: [string, unknown, string][] = [
      // Int, not proto3 JSON's string number.
      ["openClassGroup", { ...open, gradeLevel: "5" }, "input.gradeLevel"],
      ["renameSchool", { schoolId: F.s1, name: 5 }, "input.name"],
      ["registerPerson", { ...person, kind: "PERSON_KIND_ALIEN" }, "input.kind"],
      // UNSPECIFIED is proto's "not set": leaving the field out says that.
      ["registerPerson", { ...person, kind: "PERSON_KIND_UNSPECIFIED" }, "input.kind"],
      [
        "registerPerson",
        { ...person, personalData: { ...person.personalData, sex: "SEX_OTHER" } },
        "input.personalData.sex",
      ],
      // "Required." in the proto comment: the field is non-null.
      ["disableAccount", { accountId: "acc-t1" }, "input.reason"],
      ["deleteAccount", { accountId: "acc-t1", reason: null }, "input.reason"],
      [
        "grantRole",
        { accountId: "acc-t1", grant: { role: "TEACHER", scope: "school" } },
        "input.grant.scope",
      ],
      [
        "defineTermSystem",
        {
          schoolId: F.s1,
          academicYear: { startYear: 2026 },
          gradeLevels: [5],
          kind: "TERM_KIND_HALF_YEAR",
          terms: [{ number: 1, firstDay: 20260901 }],
        },
        "input.terms[0].firstDay",
      ],
      ["login", { username: "u", password: "p", otp: "1" }, "input.otp"],
    ];
    for (const [field, input, path] of cases)
      await expectInputRefused(field === "login" ? undefined : admin, field, input, path);
  });

  it('a field the service always refuses absent ("Required." in its proto) is non-null: left out or null, it is BAD_USER_INPUT naming input.<field>, reaching no service', async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const year = { startYear: 2026 };
    const lesson = { schoolId: F.s1, academicYear: year, classGroupId: F.c1, lessonId: "l1" };
    const cases: [string, unknown, string][] = [
      // auth
      ["login", { username: "u" }, "input.password"],
      ["enableAccount", { accountId: null }, "input.accountId"],
      ["grantRole", { accountId: "acc-t1" }, "input.grant"],
      // identity
      ["renameSchool", { schoolId: F.s1, name: "Школа № 1" }, "input.shortName"],
      ["openClassGroup", { schoolId: F.s1, gradeLevel: 5, letter: "В" }, "input.academicYear"],
      [
        "registerPerson",
        {
          kind: "PERSON_KIND_STUDENT",
          schoolId: F.s1,
          personalData: { familyName: "Ф", givenName: "И", birthDate: "2015-03-01" },
        },
        "input.personalData.sex",
      ],
      // curriculum
      ["cancelLesson", lesson, "input.reason"],
      [
        "endTeacherAssignment",
        { schoolId: F.s1, academicYear: year, assignmentId: "a1" },
        "input.lastDay",
      ],
      [
        "endTeacherAssignment",
        { schoolId: F.s1, academicYear: year, lastDay: "2026-12-25" },
        "input.assignmentId",
      ],
      [
        "defineAcademicYear",
        { schoolId: F.s1, municipalityId: F.m1, academicYear: year },
        "input.daysPerWeek",
      ],
      [
        "draftWorkProgramme",
        {
          schoolId: F.s1,
          academicYear: year,
          subjectId: "math",
          gradeLevel: 5,
          items: [{ topic: "Дроби" }],
        },
        "input.items[0].hours",
      ],
    ];
    for (const [field, input, path] of cases)
      await expectInputRefused(
        field === "login" ? undefined : admin,
        field,
        input,
        path,
        ".*(was not provided|not to be null)",
      );
    // Written in the document, too.
    h.fakes.reset();
    const inline = await h.query(
      admin,
      `mutation { cancelLesson(commandId: "c", input: { schoolId: "${F.s1}", academicYear: { startYear: 2026 }, classGroupId: "${F.c1}", lessonId: "l1" }) { replayed } }`,
    );
    expect([codeOf(inline), fieldOf(inline)]).toEqual(["BAD_USER_INPUT", "input.reason"]);
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("a JSONObject variable for an administrative command (the old API) is refused naming input, reaching no service", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    h.fakes.reset();
    const old = await h.query(
      admin,
      `mutation M($i: JSONObject!) { unassignStaffFromSchool(commandId: "c", input: $i) { ok } }`,
      { i: { personId: F.t1, schoolId: F.s1 } },
    );
    expect([codeOf(old), fieldOf(old)]).toEqual(["BAD_USER_INPUT", "input"]);
    expect(old.body.errors?.[0]?.message).toMatch(/UnassignStaffFromSchoolInput!/);
    // The old answer without a selection is no longer a document either.
    const bare = await h.query(
      admin,
      `mutation { unassignStaffFromSchool(commandId: "c", input: { personId: "${F.t1}", schoolId: "${F.s1}" }) }`,
    );
    expect(codeOf(bare)).toBe("BAD_USER_INPUT");
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("an administrative typed input becomes the gRPC request its proto3 JSON made; the answer is the typed payload", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    h.fakes.reset();
    const a = await h.query(admin, commandOperation("unassignStaffFromSchool"), {
      c: "cmd-20",
      i: { personId: F.t1, schoolId: F.s1 },
    });
    expect(a.body).toEqual({ data: { unassignStaffFromSchool: { ok: true } } });
    expect(h.fakes.requests.get("UnassignStaffFromSchool")).toEqual(
      UnassignStaffFromSchoolRequest.fromJSON({
        personId: F.t1,
        schoolId: F.s1,
        commandId: "cmd-20",
      }),
    );
  });

  it("endTeacherAssignment: an admin's typed input reaches curriculum's EndTeacherAssignment; a teacher is refused early", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const input = {
      schoolId: F.s1,
      academicYear: { startYear: 2026 },
      assignmentId: "a1",
      lastDay: "2026-12-25",
    };
    h.fakes.reset();
    const ended = await h.query(admin, commandOperation("endTeacherAssignment"), {
      c: "cmd-30",
      i: input,
    });
    expect(ended.body).toEqual({ data: { endTeacherAssignment: { replayed: false } } });
    expect(h.fakes.requests.get("EndTeacherAssignment")).toEqual(
      EndTeacherAssignmentRequest.fromJSON({ ...input, commandId: "cmd-30" }),
    );
    h.fakes.reset();
    const refused = await h.query(teacher, commandOperation("endTeacherAssignment"), {
      c: "cmd-31",
      i: input,
    });
    expect(codeOf(refused)).toBe("FORBIDDEN");
    expect(h.fakes.totalCalls()).toBe(0);
  });

  it("a typed input becomes the gRPC request its proto3 JSON made; the answer is the typed payload", async () => {
    const input = { ...lesson, homework: "№ 12", homeworkDue: "2026-09-03" };
    h.fakes.reset();
    const a = await h.query(teacher, commandOperation("conductLesson"), { c: "cmd-9", i: input });
    expect(a.body).toEqual({ data: { conductLesson: { replayed: false } } });
    expect(h.fakes.requests.get("ConductLesson")).toEqual(
      ConductLessonRequest.fromJSON({ ...input, commandId: "cmd-9" }),
    );
    expect(h.fakes.tokens.at(-1)).toBe(`Bearer ${teacher}`);
    // Out of the teacher's school: refused early, as with the JSON input.
    h.fakes.reset();
    const other = await h.query(teacher, commandOperation("conductLesson"), {
      c: "cmd-10",
      i: { ...input, schoolId: F.s2, classGroupId: F.c2 },
    });
    expect([codeOf(other), fieldOf(other)]).toEqual(["FORBIDDEN", "input.classGroupId"]);
    expect(h.fakes.calls.get("ConductLesson")).toBeUndefined();
  });

  it("refuses a command when any class group or school it names is out of scope, whatever the others", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const run = (token: string, field: string, input: unknown) =>
      h.query(token, commandOperation(field), { c: "cmd-multi", i: input });
    const year = { startYear: 2026 };
    for (const [what, token, field, input, at] of [
      // The teacher's own class group, another school's id beside it.
      [
        "a lesson of C1 said to be S2's",
        teacher,
        "conductLesson",
        { ...lesson, schoolId: F.s2 },
        "input.schoolId",
      ],
      // A batch: the second class group is S2's.
      [
        "lessons for C1 and C2",
        admin,
        "generateLessons",
        { schoolId: F.s1, academicYear: year, classGroupIds: [F.c1, F.c2] },
        "input.classGroupIds[1]",
      ],
      // The receiving class group is another school's.
      [
        "a transfer into C2",
        admin,
        "transferStudent",
        { personId: F.p1, toClassGroupId: F.c2, effectiveDate: "2026-10-15" },
        "input.toClassGroupId",
      ],
    ] as const) {
      h.fakes.reset();
      const a = await run(token, field, input);
      expect([codeOf(a), fieldOf(a)], what).toEqual(["FORBIDDEN", at]);
      expect(a.body.data, what).toBeNull();
      // Nothing but identity's placement lookups: the command reached no service.
      const commands = [...h.fakes.calls.keys()].filter(
        (m) => m !== "GetClassGroups" && m !== "GetSchools",
      );
      expect(commands, what).toEqual([]);
    }
    // An unknown class group of a batch: NOT_FOUND naming it.
    const unknown = await run(admin, "generateLessons", {
      schoolId: F.s1,
      academicYear: year,
      classGroupIds: [F.c1, "nope"],
    });
    expect([codeOf(unknown), fieldOf(unknown)]).toEqual(["NOT_FOUND", "input.classGroupIds[1]"]);
    // Every target in scope: through to the service.
    h.fakes.reset();
    const ok = await run(teacher, "conductLesson", lesson);
    expect(ok.body).toEqual({ data: { conductLesson: { replayed: false } } });
    expect(h.fakes.calls.get("ConductLesson")).toBe(1);
  });

  it("runs an operation's mutation fields in order and stops at the first refused one", async () => {
    const input = { ...lesson, homework: "№ 12" };
    const twice = `mutation T($a: ID!, $b: ID!, $out: ConductLessonInput!, $in: ConductLessonInput!) {
      first: conductLesson(commandId: $a, input: $out) { replayed }
      second: conductLesson(commandId: $b, input: $in) { replayed }
    }`;
    h.fakes.reset();
    const refused = await h.query(teacher, twice, {
      a: "cmd-11",
      b: "cmd-12",
      out: { ...input, schoolId: F.s2, classGroupId: F.c2 },
      in: input,
    });
    expect(refused.body.data).toBeNull();
    expect([codeOf(refused), fieldOf(refused)]).toEqual(["FORBIDDEN", "input.classGroupId"]);
    expect(refused.body.errors?.[0]?.path).toEqual(["first"]);
    expect(h.fakes.calls.get("ConductLesson")).toBeUndefined();
    // In the other order the first runs (and stays committed), the refused second ends it.
    const firstRuns = await h.query(teacher, twice, {
      a: "cmd-13",
      b: "cmd-14",
      out: input,
      in: { ...input, schoolId: F.s2, classGroupId: F.c2 },
    });
    expect(firstRuns.body.data).toBeNull();
    expect(firstRuns.body.errors?.[0]?.path).toEqual(["second"]);
    expect(h.fakes.calls.get("ConductLesson")).toBe(1);
  });

  it("refuses callers without a role that could run the command, and other schools' journals", async () => {
    const guardian = await h.token(["GUARDIAN"], F.g1);
    expect(codeOf(await record(guardian, { journal, lessonId: "l1", mark }))).toBe("FORBIDDEN");
    const other = { ...journal, classGroupId: F.c2 };
    const a = await record(teacher, { journal: other, lessonId: "l1", mark });
    expect([codeOf(a), fieldOf(a)]).toEqual(["FORBIDDEN", "input.classGroupId"]);
    const unknown = await record(teacher, {
      journal: { ...journal, classGroupId: "nope" },
      lessonId: "l1",
      mark,
    });
    expect(codeOf(unknown)).toBe("NOT_FOUND");
    const municipal = await h.token([`MUNICIPAL_OFFICER@municipality:${F.m2}`]);
    const school = await h.query(
      municipal,
      `mutation { renameSchool(commandId: "c", input: { schoolId: "${F.s1}", name: "x", shortName: "x" }) { ok } }`,
    );
    expect(codeOf(school)).toBe("FORBIDDEN");
  });

  it("lets an in-scope command through to the service (here: not connected)", async () => {
    expect(codeOf(await record(teacher, { journal, lessonId: "l1", mark }))).toBe("UNAVAILABLE");
  });

  it("looks a class group's placement up once per process, and still refuses from it", async () => {
    const cg = { ...journal, classGroupId: F.c3 };
    h.fakes.reset();
    const otherTeacher = await h.token([`TEACHER@school:${F.s2}`], F.t2);
    for (let i = 0; i < 3; i++) {
      expect(codeOf(await record(teacher, { journal: cg, lessonId: "l1", mark }))).toBe(
        "UNAVAILABLE",
      );
      const refused = await record(otherTeacher, { journal: cg, lessonId: "l1", mark });
      expect([codeOf(refused), fieldOf(refused)]).toEqual(["FORBIDDEN", "input.classGroupId"]);
    }
    expect(h.fakes.calls.get("GetClassGroups")).toBe(1);
    // Unknown ids are not kept: asked again each time.
    for (let i = 0; i < 2; i++)
      expect(
        codeOf(
          await record(teacher, {
            journal: { ...journal, classGroupId: "new" },
            lessonId: "l1",
            mark,
          }),
        ),
      ).toBe("NOT_FOUND");
    expect(h.fakes.calls.get("GetClassGroups")).toBe(3);
  });

  it("disableAccount, enableAccount and deleteAccount: admins' calls reach identity with their own token; others refused early", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const run = (field: string, token: string | undefined, input: unknown) =>
      h.query(token, commandOperation(field), { c: "c-1", i: input });
    const input = { accountId: "acc-t1", reason: "приказ № 12-к" };
    h.fakes.reset();
    // No role that could switch an account off, bad input, no token: no service call.
    const guardian = await h.token(["GUARDIAN"], F.g1);
    expect(codeOf(await run("disableAccount", guardian, input))).toBe("FORBIDDEN");
    expect(codeOf(await run("enableAccount", teacher, { accountId: "acc-t1" }))).toBe("FORBIDDEN");
    // accountId is required ("Required." in the proto): the misspelt one is missing, and unknown.
    const misspelt = await run("disableAccount", admin, { accountID: "acc-t1", reason: "x" });
    expect([codeOf(misspelt), fieldOf(misspelt)]).toEqual(["BAD_USER_INPUT", "input.accountId"]);
    expect(misspelt.body.errors?.map((e) => e.extensions?.field)).toContain("input.accountID");
    const withId = await run("enableAccount", admin, { accountId: "acc-t1", commandId: "x" });
    expect([codeOf(withId), fieldOf(withId)]).toEqual(["BAD_USER_INPUT", "input.commandId"]);
    expect((await run("disableAccount", undefined, input)).status).toBe(401);
    expect(h.fakes.totalCalls()).toBe(0);
    // An admin's call is forwarded with the admin's token; identity judges the account's scope.
    const disabled = await run("disableAccount", admin, input);
    expect(disabled.body).toEqual({ data: { disableAccount: { ok: true } } });
    const enabled = await run("enableAccount", admin, { accountId: "acc-t1" });
    expect(enabled.body).toEqual({ data: { enableAccount: { ok: true } } });
    const deleted = await run("deleteAccount", admin, input);
    expect(deleted.body).toEqual({ data: { deleteAccount: { ok: true } } });
    expect(codeOf(await run("deleteAccount", teacher, input))).toBe("FORBIDDEN");
    expect(
      ["DisableAccount", "EnableAccount", "DeleteAccount"].map((m) => h.fakes.calls.get(m)),
    ).toEqual([1, 1, 1]);
    expect(h.fakes.tokens).toEqual([`Bearer ${admin}`, `Bearer ${admin}`, `Bearer ${admin}`]);
  });

  it("unassignStaffFromSchool: the school's admin reaches identity; another school's admin is refused early", async () => {
    const admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "admin-person");
    const run = (schoolId: string) =>
      h.query(admin, commandOperation("unassignStaffFromSchool"), {
        c: "c-2",
        i: { personId: F.t1, schoolId },
      });
    h.fakes.reset();
    const other = await run(F.s2);
    expect([codeOf(other), fieldOf(other)]).toEqual(["FORBIDDEN", "input.schoolId"]);
    expect(h.fakes.calls.get("UnassignStaffFromSchool")).toBeUndefined();
    expect((await run(F.s1)).body).toEqual({ data: { unassignStaffFromSchool: { ok: true } } });
    expect(h.fakes.calls.get("UnassignStaffFromSchool")).toBe(1);
  });

  it("needs a token for everything but login, refreshToken and logout", async () => {
    const none = await record(undefined, { journal, lessonId: "l1", mark });
    expect([none.status, codeOf(none)]).toEqual([401, "UNAUTHENTICATED"]);
    const mixed = await h.query(
      undefined,
      `mutation { logout(commandId: "c", input: { refreshToken: "r" }) { ok } renameSchool(commandId: "c", input: { schoolId: "s1", name: "x", shortName: "x" }) { ok } }`,
    );
    expect([mixed.status, codeOf(mixed)]).toEqual([401, "UNAUTHENTICATED"]);
    // No token needed: it reaches identity's AuthService (the fakes do not implement it).
    const login = await h.query(
      undefined,
      `mutation { login(commandId: "c", input: { username: "u", password: "p" }) { accountId } }`,
    );
    expect(login.status).not.toBe(401);
    expect(codeOf(login)).not.toBe("UNAUTHENTICATED");
  });
});
