import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { requestStringFields, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishFeed, type SchoolFixture, schoolFixture } from "../test-support/feed.js";
import {
  fixtureReplicated,
  grpcError,
  type Harness,
  startHarness,
} from "../test-support/harness.js";

/*
 * Every string of every command over the real gRPC API: NUL (PostgreSQL refuses it in text
 * and jsonb; an event holding it stalls reporting's projection) and other control characters
 * are INVALID_ARGUMENT naming the field, without echoing the value, and write nothing. Free
 * texts (comment, reason, note) may hold line breaks and tabs, never NUL. The queries' strings
 * too: NUL in a query's id reached PostgreSQL as well (INTERNAL).
 */
const env = useTestEnvironment({ label: "grades_request_strings" });
let h: Harness;
let f: SchoolFixture;
let admin: Awaited<ReturnType<Harness["as"]>>;

beforeAll(async () => {
  h = await startHarness(env);
  f = schoolFixture();
  await publishFeed(h.nc, h.names, f.events);
  admin = await h.as([`SCHOOL_ADMIN@school:${f.schoolId}`], randomUUID());
  await fixtureReplicated(h, f);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

type Request = Record<string, unknown>;
type Command = (req: Request) => Promise<unknown>;

/** Each command with a request that names the fixture's journal, pupils and lessons. */
function commands(): { name: string; call: Command; request: () => Request }[] {
  const journal = {
    classGroupId: f.classGroupId,
    subgroupId: "",
    subjectId: f.subjects.math,
    academicYear: { startYear: 2026 },
  };
  const mark = (studentId: string) => ({
    studentId,
    value: MarkValue.MARK_VALUE_FIVE,
    workType: "ORAL",
    comment: "молодец",
  });
  const c = h.client;
  const as =
    <R>(fn: (req: R, md: typeof admin) => Promise<unknown>) =>
    (req: Request) =>
      fn(req as R, admin);
  const base = () => ({ commandId: randomUUID(), journal });
  return [
    {
      name: "RecordMark",
      call: as(c.recordMark.bind(c)),
      request: () => ({ ...base(), lessonId: f.lessons.past, mark: mark(f.pupils.p1) }),
    },
    {
      name: "RecordMarks",
      call: as(c.recordMarks.bind(c)),
      request: () => ({
        ...base(),
        lessonId: f.lessons.past,
        marks: [mark(f.pupils.p1), mark(f.pupils.p2)],
      }),
    },
    {
      name: "CorrectMark",
      call: as(c.correctMark.bind(c)),
      request: () => ({
        ...base(),
        markId: randomUUID(),
        value: MarkValue.MARK_VALUE_FOUR,
        reason: "ошибка",
      }),
    },
    {
      name: "RevokeMark",
      call: as(c.revokeMark.bind(c)),
      request: () => ({ ...base(), markId: randomUUID(), reason: "ошибка" }),
    },
    {
      name: "GrantExemption",
      call: as(c.grantExemption.bind(c)),
      request: () => ({
        ...base(),
        studentId: f.pupils.p1,
        firstDay: "2026-09-14",
        lastDay: "2026-09-15",
        reason: "справка",
      }),
    },
    {
      name: "RecordAttendance",
      call: as(c.recordAttendance.bind(c)),
      request: () => ({
        ...base(),
        lessonId: f.lessons.past,
        absences: [
          { studentId: f.pupils.p1, reason: AbsenceReason.ABSENCE_REASON_ILLNESS, lateMinutes: 0 },
        ],
      }),
    },
    {
      name: "ExcuseAbsence",
      call: as(c.excuseAbsence.bind(c)),
      request: () => ({
        ...base(),
        lessonId: f.lessons.past,
        studentId: f.pupils.p1,
        note: "справка",
      }),
    },
    {
      name: "SetTermMark",
      call: as(c.setTermMark.bind(c)),
      request: () => ({
        ...base(),
        studentId: f.pupils.p1,
        term: 1,
        value: MarkValue.MARK_VALUE_FIVE,
        reason: "",
      }),
    },
    ...(["closeTerm", "reopenTerm"] as const).flatMap((rpc) => [
      {
        name: `${rpc} (journal)`,
        call: as(c[rpc].bind(c)),
        request: () => ({ ...base(), term: 1, reason: "итоги", schoolId: "" }),
      },
      {
        name: `${rpc} (school)`,
        call: as(c[rpc].bind(c)),
        request: () => ({
          commandId: randomUUID(),
          schoolId: f.schoolId,
          academicYear: { startYear: 2026 },
          term: 1,
          reason: "итоги",
        }),
      },
    ]),
    {
      name: "SetWorkTypeWeights",
      call: as(c.setWorkTypeWeights.bind(c)),
      request: () => ({
        commandId: randomUUID(),
        schoolId: f.schoolId,
        weights: [{ workType: "ORAL", weight: 1 }],
      }),
    },
  ];
}

/** The queries, with a request naming the fixture's journal and pupil (the mark is unknown). */
function queries(): { name: string; call: Command; request: () => Request }[] {
  const journal = {
    classGroupId: f.classGroupId,
    subgroupId: "",
    subjectId: f.subjects.math,
    academicYear: { startYear: 2026 },
  };
  const c = h.client;
  return [
    {
      name: "GetMarkHistory",
      call: (req) => c.getMarkHistory(req as never, admin),
      request: () => ({ journal, markId: randomUUID() }),
    },
    {
      name: "ListStudentMarks",
      call: (req) => c.listStudentMarks(req as never, admin),
      request: () => ({
        journal,
        studentId: f.pupils.p1,
        fromDate: "2026-09-01",
        toDate: "2026-12-31",
      }),
    },
  ];
}

const requests = () => [...commands(), ...queries()];

const MULTILINE = /(^|\.)(comment|reason|note)$/;

async function written() {
  const { rows } = await h.store.pool.query<{ events: string; commands: string; notes: string }>(
    `SELECT (SELECT count(*) FROM eventstore.events) AS events,
            (SELECT count(*) FROM eventstore.commands) AS commands,
            (SELECT count(*) FROM grades.notes) AS notes`,
  );
  return rows[0];
}

async function expectInvalid(call: Promise<unknown>, field: string, bad: string) {
  const err = await grpcError(call);
  expect({ code: err.code, field: err.metadata.get("field") }).toEqual({
    code: status.INVALID_ARGUMENT,
    field: [field],
  });
  expect(err.details.startsWith(`${field}: `)).toBe(true);
  expect(err.details).not.toContain(bad);
}

describe("control characters and long ids in commands and queries", () => {
  it("refuses NUL in every string of every command and query, naming the field, writing nothing", async () => {
    const before = await written();
    const checked: string[] = [];
    for (const command of requests()) {
      for (const field of requestStringFields(command.request())) {
        checked.push(`${command.name} ${field.path}`);
        const bad = `x\u0000${randomUUID()}`;
        await expectInvalid(
          command.call(field.set(command.request(), bad) as Request),
          field.path,
          bad,
        ).catch((err: Error) => {
          throw new Error(`${command.name} ${field.path}: ${err.message}`);
        });
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        "RecordMarks marks[1].comment",
        "RecordMarks marks[1].work_type",
        "RecordAttendance absences[0].student_id",
        "GrantExemption first_day",
        "ExcuseAbsence note",
        "CorrectMark mark_id",
        "closeTerm (school) school_id",
        "SetWorkTypeWeights weights[0].work_type",
        "SetTermMark journal.subgroup_id",
        "GetMarkHistory mark_id",
        "GetMarkHistory journal.subject_id",
        "ListStudentMarks student_id",
        "ListStudentMarks to_date",
      ]),
    );
    expect(await written()).toEqual(before);
  });

  it("refuses other control characters; line breaks and tabs only in comments, reasons and notes", async () => {
    const before = await written();
    for (const command of requests()) {
      for (const field of requestStringFields(command.request())) {
        const controls = MULTILINE.test(field.path)
          ? ["\u0007", "\u001b[2J", "\u007f", "\u0085"]
          : ["\n", "\t", "\r", "\u0007", "\u007f", "\u0085"];
        for (const ch of controls) {
          const bad = `a${ch}${randomUUID()}`;
          await expectInvalid(
            command.call(field.set(command.request(), bad) as Request),
            field.path,
            bad,
          ).catch((err: Error) => {
            throw new Error(`${command.name} ${field.path} ${JSON.stringify(ch)}: ${err.message}`);
          });
        }
      }
    }
    expect(await written()).toEqual(before);
  });

  it("refuses ids and command ids over 200 characters", async () => {
    const before = await written();
    for (const command of requests()) {
      for (const field of requestStringFields(command.request())) {
        if (!/(_id|^command_id)$/.test(field.path)) continue;
        const bad = "x".repeat(201);
        const err = await grpcError(command.call(field.set(command.request(), bad) as Request));
        expect([command.name, err.code, err.metadata.get("field"), err.details]).toEqual([
          command.name,
          status.INVALID_ARGUMENT,
          [field.path],
          `${field.path}: must be at most 200 characters`,
        ]);
      }
    }
    expect(await written()).toEqual(before);
  });

  it("keeps multi-line comments, reasons and notes", async () => {
    const journal = {
      classGroupId: f.classGroupId,
      subgroupId: "",
      subjectId: f.subjects.math,
      academicYear: { startYear: 2026 },
    };
    const comment = "отлично\nсм. тетрадь\tстр. 5";
    const { markId } = await h.client.recordMark(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.past,
        mark: {
          studentId: f.pupils.p2,
          value: MarkValue.MARK_VALUE_FIVE,
          workType: "ORAL",
          comment,
        },
      },
      admin,
    );
    const history = await h.client.getMarkHistory({ journal, markId }, admin);
    expect(history.comment).toBe(comment);
  });
});

/*
 * Values a demanding client might send, command by command: each is refused with the status
 * the README's conventions give, the message and `field` naming the request's own field path
 * (`marks[1].value` in RecordMarks, `mark.value` in RecordMark), and nothing is written.
 */
describe("invalid values in commands", () => {
  const find = (name: string) => {
    const c = commands().find((x) => x.name === name);
    if (!c) throw new Error(`no command ${name}`);
    return c;
  };
  const long = (n: number) => "я".repeat(n);
  const invalid = status.INVALID_ARGUMENT;
  /** [command, what changes in its valid request, expected status, expected field]. */
  const cases: [string, (r: Request) => Request, number, string][] = [
    ["RecordMark", (r) => ({ ...r, mark: undefined }), invalid, "mark"],
    ["RecordMark", (r) => ({ ...r, commandId: "" }), invalid, "command_id"],
    ["RecordMark", (r) => ({ ...r, journal: undefined }), invalid, "journal"],
    [
      "RecordMark",
      (r) => ({ ...r, journal: { ...(r.journal as object), academicYear: { startYear: 0 } } }),
      invalid,
      "journal.academic_year",
    ],
    [
      "RecordMark",
      (r) => ({ ...r, journal: { ...(r.journal as object), academicYear: { startYear: 2025 } } }),
      invalid,
      "journal.academic_year",
    ],
    ["RecordMark", (r) => ({ ...r, lessonId: "" }), invalid, "lesson_id"],
    ...[0, 99, -1].map((value): [string, (r: Request) => Request, number, string] => [
      "RecordMark",
      (r) => ({ ...r, mark: { ...(r.mark as object), value } }),
      invalid,
      "mark.value",
    ]),
    [
      "RecordMark",
      (r) => ({ ...r, mark: { ...(r.mark as object), studentId: "" } }),
      invalid,
      "mark.student_id",
    ],
    [
      "RecordMark",
      (r) => ({ ...r, mark: { ...(r.mark as object), workType: "oral" } }),
      invalid,
      "mark.work_type",
    ],
    [
      "RecordMark",
      (r) => ({ ...r, mark: { ...(r.mark as object), workType: "ESSAY" } }),
      invalid,
      "mark.work_type",
    ],
    [
      "RecordMark",
      (r) => ({ ...r, mark: { ...(r.mark as object), comment: long(2001) } }),
      invalid,
      "mark.comment",
    ],
    ["RecordMarks", (r) => ({ ...r, marks: [] }), invalid, "marks"],
    [
      "RecordMarks",
      (r) => ({ ...r, marks: Array.from({ length: 201 }, () => (r.marks as object[])[0]) }),
      invalid,
      "marks",
    ],
    [
      "RecordAttendance",
      (r) => ({
        ...r,
        absences: Array.from({ length: 201 }, () => ({
          studentId: randomUUID(),
          reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
          lateMinutes: 0,
        })),
      }),
      invalid,
      "absences",
    ],
    [
      "SetWorkTypeWeights",
      (r) => ({
        ...r,
        weights: Array.from({ length: 51 }, (_, i) => ({ workType: `W${i}`, weight: 1 })),
      }),
      invalid,
      "weights",
    ],
    [
      "RecordMarks",
      (r) => ({
        ...r,
        marks: (r.marks as object[]).map((m, i) => (i === 1 ? { ...m, value: 0 } : m)),
      }),
      invalid,
      "marks[1].value",
    ],
    [
      "RecordMarks",
      (r) => ({ ...r, marks: [{ ...(r.marks as object[])[0], value: 0 }] }),
      invalid,
      "marks[0].value",
    ],
    [
      "RecordMarks",
      (r) => ({ ...r, marks: [{ ...(r.marks as object[])[0], studentId: " " }] }),
      invalid,
      "marks[0].student_id",
    ],
    ["CorrectMark", (r) => ({ ...r, markId: "" }), invalid, "mark_id"],
    ["CorrectMark", (r) => r, status.NOT_FOUND, "mark_id"],
    ["RevokeMark", (r) => ({ ...r, markId: " " }), invalid, "mark_id"],
    ["GrantExemption", (r) => ({ ...r, studentId: "" }), invalid, "student_id"],
    ["GrantExemption", (r) => ({ ...r, firstDay: "2027-02-30" }), invalid, "first_day"],
    ["GrantExemption", (r) => ({ ...r, firstDay: "" }), invalid, "first_day"],
    ["GrantExemption", (r) => ({ ...r, lastDay: "2026-13-01" }), invalid, "last_day"],
    ["GrantExemption", (r) => ({ ...r, lastDay: "15.09.2026" }), invalid, "last_day"],
    ["GrantExemption", (r) => ({ ...r, lastDay: "2026-09-13" }), invalid, "last_day"],
    ["GrantExemption", (r) => ({ ...r, reason: " " }), invalid, "reason"],
    ["GrantExemption", (r) => ({ ...r, reason: long(501) }), invalid, "reason"],
    [
      "GrantExemption",
      (r) => ({ ...r, firstDay: "2026-08-31" }),
      status.FAILED_PRECONDITION,
      "first_day",
    ],
    [
      "GrantExemption",
      (r) => ({ ...r, lastDay: "2027-09-01" }),
      status.FAILED_PRECONDITION,
      "last_day",
    ],
    ["RecordAttendance", (r) => ({ ...r, lessonId: "" }), invalid, "lesson_id"],
    ...[0, 99].map((reason): [string, (r: Request) => Request, number, string] => [
      "RecordAttendance",
      (r) => ({ ...r, absences: [{ studentId: f.pupils.p1, reason, lateMinutes: 0 }] }),
      invalid,
      "absences[0].reason",
    ]),
    ...[-1, 241].map((lateMinutes): [string, (r: Request) => Request, number, string] => [
      "RecordAttendance",
      (r) => ({
        ...r,
        absences: [
          { studentId: f.pupils.p1, reason: AbsenceReason.ABSENCE_REASON_NONE, lateMinutes },
        ],
      }),
      invalid,
      "absences[0].late_minutes",
    ]),
    [
      "RecordAttendance",
      (r) => ({
        ...r,
        absences: [
          { studentId: f.pupils.p1, reason: AbsenceReason.ABSENCE_REASON_NONE, lateMinutes: 0 },
        ],
      }),
      invalid,
      "absences[0]",
    ],
    [
      "RecordAttendance",
      (r) => ({
        ...r,
        absences: [
          { studentId: f.pupils.p1, reason: AbsenceReason.ABSENCE_REASON_ILLNESS, lateMinutes: 15 },
        ],
      }),
      invalid,
      "absences[0].late_minutes",
    ],
    [
      "RecordAttendance",
      (r) => ({ ...r, absences: [...(r.absences as object[]), ...(r.absences as object[])] }),
      invalid,
      "absences[1].student_id",
    ],
    [
      "RecordAttendance",
      (r) => ({ ...r, absences: [{ ...(r.absences as object[])[0], studentId: "" }] }),
      invalid,
      "absences[0].student_id",
    ],
    ["ExcuseAbsence", (r) => ({ ...r, lessonId: "" }), invalid, "lesson_id"],
    ["ExcuseAbsence", (r) => ({ ...r, studentId: "" }), invalid, "student_id"],
    ["ExcuseAbsence", (r) => ({ ...r, note: long(2001) }), invalid, "note"],
    ["SetTermMark", (r) => ({ ...r, studentId: "" }), invalid, "student_id"],
    ["SetTermMark", (r) => ({ ...r, term: -1 }), invalid, "term"],
    ["SetTermMark", (r) => ({ ...r, term: 5 }), invalid, "term"],
    ["SetTermMark", (r) => ({ ...r, value: 0 }), invalid, "value"],
    ["SetTermMark", (r) => ({ ...r, value: 42 }), invalid, "value"],
    ...(["closeTerm", "reopenTerm"] as const).flatMap(
      (rpc): [string, (r: Request) => Request, number, string][] => [
        [`${rpc} (journal)`, (r) => ({ ...r, term: 5 }), invalid, "term"],
        [`${rpc} (journal)`, (r) => ({ ...r, term: -1 }), invalid, "term"],
        [`${rpc} (journal)`, (r) => ({ ...r, reason: "" }), invalid, "reason"],
        [`${rpc} (journal)`, (r) => ({ ...r, reason: long(501) }), invalid, "reason"],
        [`${rpc} (school)`, (r) => ({ ...r, term: 5 }), invalid, "term"],
        [`${rpc} (school)`, (r) => ({ ...r, reason: " " }), invalid, "reason"],
        // A year in which the school has no journal yet: still checked.
        [
          `${rpc} (school)`,
          (r) => ({ ...r, academicYear: { startYear: 2027 }, term: 9 }),
          invalid,
          "term",
        ],
        [
          `${rpc} (school)`,
          (r) => ({ ...r, academicYear: { startYear: 2027 }, reason: "" }),
          invalid,
          "reason",
        ],
        [
          `${rpc} (school)`,
          (r) => ({ ...r, academicYear: { startYear: 1999 } }),
          invalid,
          "academic_year",
        ],
      ],
    ),
    ["SetWorkTypeWeights", (r) => ({ ...r, schoolId: "" }), invalid, "school_id"],
    ["SetWorkTypeWeights", (r) => ({ ...r, weights: [] }), invalid, "weights"],
    ...[0, 11, -1].map((weight): [string, (r: Request) => Request, number, string] => [
      "SetWorkTypeWeights",
      (r) => ({ ...r, weights: [{ workType: "ORAL", weight }] }),
      invalid,
      "weights[0].weight",
    ]),
    [
      "SetWorkTypeWeights",
      (r) => ({ ...r, weights: [{ workType: "", weight: 1 }] }),
      invalid,
      "weights[0].work_type",
    ],
    [
      "SetWorkTypeWeights",
      (r) => ({
        ...r,
        weights: [
          { workType: "ORAL", weight: 1 },
          { workType: "ORAL", weight: 2 },
        ],
      }),
      invalid,
      "weights[1].work_type",
    ],
  ];

  it("refuses each with its status, naming the request's field, writing nothing", async () => {
    const before = await written();
    const got: string[] = [];
    const want: string[] = [];
    for (const [name, change, code, field] of cases) {
      const c = find(name);
      const err = await grpcError(c.call(change(c.request())));
      got.push(
        `${name} ${field}: ${err.code} ${err.metadata.get("field")} ${err.details.split(":")[0]}`,
      );
      want.push(`${name} ${field}: ${code} ${field} ${field}`);
    }
    expect(got).toEqual(want);
    expect(await written()).toEqual(before);
  });
});
