import { randomUUID } from "node:crypto";
import { Metadata, status } from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Call, GradesDeps } from "./commands/deps.js";
import {
  closeOrReopenTerm,
  correctOrRevokeMark,
  excuseAbsence,
  grantExemption,
  recordAttendance,
  recordMarks,
  setTermMark,
} from "./commands/journal.js";
import { JournalStore } from "./commands/journal-store.js";
import { newEvent } from "./domain/events.js";
import { FACTS_SCHEMA, NOTES_LOCK } from "./projections/facts.js";
import type { FactsReader } from "./projections/facts-queries.js";
import {
  curriculumEvent,
  mathLesson as fixtureMathLesson,
  identityEvent,
  publishFeed,
  type SchoolFixture,
  schoolFixture,
} from "./test-support/feed.js";
import {
  eventually,
  fixtureReplicated,
  grpcError,
  type Harness,
  replicaHas,
  ruleOf,
  startHarness,
} from "./test-support/harness.js";

const env = useTestEnvironment({ label: "grades_journal" });
let h: Harness;
let f: SchoolFixture;
let journal: {
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  academicYear: { startYear: number };
};
let teacher: Awaited<ReturnType<Harness["as"]>>;
let admin: Awaited<ReturnType<Harness["as"]>>;

const mark = (
  studentId: string,
  value = MarkValue.MARK_VALUE_FIVE,
  workType = "ORAL",
  comment = "",
) => ({
  studentId,
  value,
  workType,
  comment,
});

beforeAll(async () => {
  h = await startHarness(env);
  f = schoolFixture();
  await publishFeed(h.nc, h.names, f.events);
  journal = {
    classGroupId: f.classGroupId,
    subgroupId: "",
    subjectId: f.subjects.math,
    academicYear: { startYear: 2026 },
  };
  teacher = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.math);
  admin = await h.as([`SCHOOL_ADMIN@school:${f.schoolId}`], randomUUID());
  await fixtureReplicated(h, f);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

// Term marks are for terms that have begun: tests that set them for later terms run in May.
const inMay = () => h.clock.set("2027-05-20T05:00:00Z");
afterEach(() => h?.clock.set("2026-09-15T05:00:00Z"));

const recordMark = (over: Record<string, unknown> = {}, md = teacher) =>
  h.client.recordMark(
    {
      commandId: randomUUID(),
      journal,
      lessonId: f.lessons.past,
      mark: mark(f.pupils.p1),
      ...over,
    },
    md,
  );

/** A new maths lesson of the fixture's class group, period 2. */
const mathLesson = (date: string, teacherId: string) => fixtureMathLesson(f, date, teacherId, 2);
const lessonEvent = (
  type: string,
  lesson: ReturnType<typeof mathLesson>,
  more: Record<string, unknown> = {},
) => curriculumEvent(`lessons-${f.classGroupId}-2026`, type, { ...lesson, ...more });
const scheduled = (lesson: ReturnType<typeof mathLesson>) =>
  lessonEvent("LessonScheduled", lesson, { slotId: randomUUID(), term: 1, room: "101" });
/** The replica's row of a lesson (date as YYYY-MM-DD), once it has one. */
const replicaLesson = async (lessonId: string) =>
  (
    await h.store.pool.query<{ date: string; status: string }>(
      `SELECT to_char(lesson_date, 'YYYY-MM-DD') AS date, status FROM proj_grades_facts.lessons
        WHERE lesson_id = $1`,
      [lessonId],
    )
  ).rows[0];

describe("marks over gRPC", () => {
  it("records a mark with the default weight; a retry with the same command id records nothing", async () => {
    const commandId = randomUUID();
    const req = {
      commandId,
      journal,
      lessonId: f.lessons.past,
      mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FOUR, "TEST"),
    };
    const first = await h.client.recordMark(req, teacher);
    expect(first).toMatchObject({ replayed: false, weight: 3 });
    expect(await h.client.recordMark(req, teacher)).toEqual({ ...first, replayed: true });
    const other = await grpcError(
      h.client.recordMark({ ...req, mark: mark(f.pupils.p2) }, teacher),
    );
    expect([other.code, other.details]).toEqual([
      status.INVALID_ARGUMENT,
      expect.stringMatching(/^command_id/),
    ]);
    const events = await h.store.readStream(`journal-${f.classGroupId}-${f.subjects.math}-2026`);
    expect(
      events.filter((e) => (e.data as { markId: string }).markId === first.markId),
    ).toHaveLength(1);
    expect(events.at(-1)?.metadata).toMatchObject({
      commandId,
      actor: { personId: f.teachers.math },
    });
  });

  it("refuses without a token, and a teacher of another school", async () => {
    expect((await grpcError(recordMark({}, new Metadata()))).code).toBe(status.UNAUTHENTICATED);
    const elsewhere = await h.as([`TEACHER@school:${randomUUID()}`], f.teachers.math);
    expect((await grpcError(recordMark({}, elsewhere))).code).toBe(status.PERMISSION_DENIED);
  });

  it("refuses a value off the journal's scale", async () => {
    const pe = { ...journal, subjectId: f.subjects.pe };
    expect(await ruleOf(recordMark({ journal: pe, lessonId: f.lessons.pe }))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "value_off_scale",
    });
    await recordMark({
      journal: pe,
      lessonId: f.lessons.pe,
      mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FAIL),
    });
    expect(
      (await grpcError(recordMark({ mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_UNSPECIFIED) })))
        .code,
    ).toBe(status.INVALID_ARGUMENT);
  });

  it("refuses a pupil not enrolled on the lesson date (other class group, withdrawn before)", async () => {
    expect(await ruleOf(recordMark({ mark: mark(f.pupils.other) }))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "student_not_enrolled",
    });
    h.clock.set("2026-09-26T05:00:00Z");
    try {
      expect(
        await ruleOf(recordMark({ lessonId: f.lessons.late, mark: mark(f.pupils.p3) })),
      ).toEqual({
        code: status.FAILED_PRECONDITION,
        rule: "student_not_enrolled",
      });
      // Before the withdrawal the same pupil is in.
      await recordMark({ mark: mark(f.pupils.p3) });
    } finally {
      h.clock.set("2026-09-15T05:00:00Z");
    }
  });

  it("refuses a teacher not assigned; a substitute writes only on their days; an admin may", async () => {
    const stranger = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.stranger);
    expect(await ruleOf(recordMark({}, stranger))).toEqual({
      code: status.PERMISSION_DENIED,
      rule: "author_not_assigned",
    });
    const sub = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.sub);
    await recordMark({ lessonId: f.lessons.subDay }, sub);
    expect(await ruleOf(recordMark({}, sub))).toEqual({
      code: status.PERMISSION_DENIED,
      rule: "author_not_assigned",
    });
    await recordMark({}, admin);
    // The English teacher teaches the subgroup, whose journal is its own.
    const eng = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.eng);
    const engJournal = { ...journal, subgroupId: f.subgroupId, subjectId: f.subjects.eng };
    await recordMark({ journal: engJournal, lessonId: f.lessons.eng }, eng);
    expect(
      await ruleOf(
        recordMark({ journal: engJournal, lessonId: f.lessons.eng, mark: mark(f.pupils.p2) }, eng),
      ),
    ).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "student_not_enrolled",
    });
  });

  /**
   * The substitute's lesson of 2026-09-15 (their days are 2026-09-14..18) moved to 2026-09-11
   * with its teacher (as curriculum's LessonMoved keeps it), there conducted by a colleague an
   * admin named: neither has an assignment or a substitution on that day, each has the lesson.
   */
  const lessonTaughtOutsideAssignments = async () => {
    const lesson = mathLesson("2026-09-15", f.teachers.sub);
    await publishFeed(h.nc, h.names, [
      scheduled(lesson),
      lessonEvent("LessonMoved", lesson, { toDate: "2026-09-11", toPeriod: 3, toTerm: 1 }),
      lessonEvent("LessonConducted", lesson, {
        date: "2026-09-11",
        topic: "Дроби",
        conductedBy: f.teachers.stranger,
      }),
    ]);
    await eventually(async () =>
      expect(await replicaLesson(lesson.lessonId)).toEqual({
        date: "2026-09-11",
        status: "CONDUCTED",
      }),
    );
    const teacherOf = (id: string) => h.as([`TEACHER@school:${f.schoolId}`], id);
    const [sub, conductor, eng] = await Promise.all([
      teacherOf(f.teachers.sub),
      teacherOf(f.teachers.stranger),
      teacherOf(f.teachers.eng),
    ]);
    return { lessonId: lesson.lessonId, sub, conductor, eng };
  };

  it("the lesson's teacher keeps their rights on it after someone else conducted it, and so does the conductor", async () => {
    const { lessonId, sub, conductor, eng } = await lessonTaughtOutsideAssignments();
    expect((await recordMark({ lessonId, mark: mark(f.pupils.p2) }, sub)).replayed).toBe(false);
    expect((await recordMark({ lessonId, mark: mark(f.pupils.p2) }, conductor)).replayed).toBe(
      false,
    );
    expect(await ruleOf(recordMark({ lessonId, mark: mark(f.pupils.p2) }, eng))).toEqual({
      code: status.PERMISSION_DENIED,
      rule: "author_not_assigned",
    });
    // Only on the lesson's day: the substitute's other days are their substitution's.
    expect(await ruleOf(recordMark({}, sub))).toEqual({
      code: status.PERMISSION_DENIED,
      rule: "author_not_assigned",
    });
  });

  it("the lesson's teacher and its conductor correct and revoke marks on it as they record them; nobody else gains", async () => {
    const { lessonId, sub, conductor, eng } = await lessonTaughtOutsideAssignments();
    const onLesson = async (md: typeof teacher) =>
      (await recordMark({ lessonId, mark: mark(f.pupils.p2) }, md)).markId;
    const [bySub, byConductor] = [await onLesson(sub), await onLesson(conductor)];
    const correct = (markId: string, md: typeof teacher, value = MarkValue.MARK_VALUE_FOUR) =>
      h.client.correctMark({ commandId: randomUUID(), journal, markId, value, reason: "r" }, md);
    const revoke = (markId: string, md: typeof teacher) =>
      h.client.revokeMark({ commandId: randomUUID(), journal, markId, reason: "r" }, md);
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    // The lesson's teacher as a teacher of another school or as a guardian, a teacher of
    // another subject, and the lesson's teacher on a mark of another lesson (2026-09-10, before
    // their substitution) are refused as when recording.
    const [elsewhere, guardian] = await Promise.all([
      h.as([`TEACHER@school:${randomUUID()}`], f.teachers.sub),
      h.as(["GUARDIAN"], f.teachers.sub),
    ]);
    const { markId: otherLesson } = await recordMark();
    for (const [markId, md] of [
      [bySub, elsewhere],
      [bySub, guardian],
      [bySub, eng],
      [otherLesson, sub],
      [otherLesson, conductor],
    ] as const) {
      for (const change of [correct, revoke])
        expect((await grpcError(change(markId, md))).code).toBe(status.PERMISSION_DENIED);
    }
    expect(await h.store.streamVersion(stream)).toBe(before + 1);
    // An assigned teacher is judged without reading the lesson; the lesson's people read it.
    const lessonReads = vi.spyOn(h.deps.facts, "lessonOf");
    try {
      // To another value than the corrections below (one to the value a mark has is refused).
      expect((await correct(bySub, teacher, MarkValue.MARK_VALUE_THREE)).replayed).toBe(false);
      expect(lessonReads).not.toHaveBeenCalled();
      for (const [markId, md] of [
        [bySub, conductor],
        [byConductor, sub],
      ] as const) {
        expect((await correct(markId, md)).replayed).toBe(false);
        expect((await revoke(markId, md)).replayed).toBe(false);
      }
      expect(lessonReads).toHaveBeenCalled();
    } finally {
      lessonReads.mockRestore();
    }
  });

  it("refuses a lesson in the future in the school's zone, and a cancelled lesson", async () => {
    expect(await ruleOf(recordMark({ lessonId: f.lessons.future }))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "lesson_in_future",
    });
    // 2026-09-24 20:00 UTC is already 25 September in Yekaterinburg (UTC+5): the lesson is today.
    h.clock.set("2026-09-24T20:00:00Z");
    try {
      await recordMark({ lessonId: f.lessons.late });
      h.clock.set("2026-09-24T18:00:00Z");
      expect((await ruleOf(recordMark({ lessonId: f.lessons.late }))).rule).toBe(
        "lesson_in_future",
      );
    } finally {
      h.clock.set("2026-09-15T05:00:00Z");
    }
    expect(await ruleOf(recordMark({ lessonId: f.lessons.cancelled }))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "lesson_cancelled",
    });
  });

  it("answers UNAVAILABLE (retry later) for a lesson or pupil the replica has not seen", async () => {
    const lesson = await grpcError(recordMark({ lessonId: randomUUID() }));
    expect([lesson.code, lesson.details]).toEqual([
      status.UNAVAILABLE,
      expect.stringMatching(/^lesson_id: .*retry/),
    ]);
    expect((await grpcError(recordMark({ mark: mark(randomUUID()) }))).code).toBe(
      status.UNAVAILABLE,
    );
    const unknownJournal = { ...journal, classGroupId: randomUUID() };
    expect((await grpcError(recordMark({ journal: unknownJournal }))).code).toBe(
      status.UNAVAILABLE,
    );
  });

  it("records a whole column atomically: one pupil not enrolled refuses every mark", async () => {
    const before = await h.store.streamVersion(`journal-${f.classGroupId}-${f.subjects.math}-2026`);
    const bad = await ruleOf(
      h.client.recordMarks(
        {
          commandId: randomUUID(),
          journal,
          lessonId: f.lessons.past,
          marks: [mark(f.pupils.p1), mark(f.pupils.other)],
        },
        teacher,
      ),
    );
    expect(bad.rule).toBe("student_not_enrolled");
    expect(await h.store.streamVersion(`journal-${f.classGroupId}-${f.subjects.math}-2026`)).toBe(
      before,
    );
    const ok = await h.client.recordMarks(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.past,
        marks: [mark(f.pupils.p1), mark(f.pupils.p2)],
      },
      teacher,
    );
    expect(ok.markIds).toHaveLength(2);
  });

  it("refuses a pupil listed twice for one work type, naming both entries; other work types are taken", async () => {
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    const twice = await grpcError(
      h.client.recordMarks(
        {
          commandId: randomUUID(),
          journal,
          lessonId: f.lessons.past,
          marks: [
            mark(f.pupils.p1),
            mark(f.pupils.p2),
            mark(f.pupils.p2, MarkValue.MARK_VALUE_FOUR),
          ],
        },
        teacher,
      ),
    );
    expect([twice.code, twice.details]).toEqual([
      status.INVALID_ARGUMENT,
      `marks[2].student_id: pupil ${f.pupils.p2} already has a mark of work type ORAL in this call (marks[1])`,
    ]);
    expect(await h.store.streamVersion(stream)).toBe(before);
    // An oral answer and a test on one lesson: one save, two marks for the pupil.
    const both = await h.client.recordMarks(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.past,
        marks: [mark(f.pupils.p2), mark(f.pupils.p2, MarkValue.MARK_VALUE_FOUR, "TEST")],
      },
      teacher,
    );
    expect(both.markIds).toHaveLength(2);
    expect(await h.store.streamVersion(stream)).toBe(before + 2);
  });
});

describe("corrections, history, term marks and closing", () => {
  it("corrects and revokes with reasons, keeps the history, refuses correcting a revoked mark", async () => {
    const { markId } = await recordMark({
      mark: mark(f.pupils.p2, MarkValue.MARK_VALUE_TWO, "HOMEWORK", "забыл тетрадь"),
    });
    await h.client.correctMark(
      {
        commandId: randomUUID(),
        journal,
        markId,
        value: MarkValue.MARK_VALUE_THREE,
        reason: "ошибка ввода",
      },
      teacher,
    );
    await h.client.revokeMark(
      { commandId: randomUUID(), journal, markId, reason: "не тот ученик" },
      teacher,
    );
    expect(
      await ruleOf(
        h.client.correctMark(
          {
            commandId: randomUUID(),
            journal,
            markId,
            value: MarkValue.MARK_VALUE_FIVE,
            reason: "x",
          },
          teacher,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "mark_revoked" });
    const history = await h.client.getMarkHistory({ journal, markId }, teacher);
    expect(history.changes.map((c) => [c.kind, c.value, c.reason])).toEqual([
      ["RECORDED", MarkValue.MARK_VALUE_TWO, ""],
      ["CORRECTED", MarkValue.MARK_VALUE_THREE, "ошибка ввода"],
      ["REVOKED", 0, "не тот ученик"],
    ]);
    expect(history.comment).toBe("забыл тетрадь");
    await h.client.grantExemption(
      {
        commandId: randomUUID(),
        journal,
        studentId: f.pupils.p2,
        firstDay: "2026-09-15",
        lastDay: "2026-12-31",
        reason: "по состоянию здоровья",
      },
      admin,
    );
    // Reasons are free text about the pupil: the events name notes, never hold the text.
    const stored = JSON.stringify(
      await h.store.readStream(`journal-${f.classGroupId}-${f.subjects.math}-2026`),
    );
    for (const text of ["забыл тетрадь", "ошибка ввода", "не тот ученик", "по состоянию здоровья"])
      expect(stored).not.toContain(text);
    // The pupil's erasure clears the comment and the reasons; the mark stays, by opaque id.
    await publishFeed(h.nc, h.names, [
      identityEvent(`person-${f.pupils.p2}`, "PersonErased", {
        personId: f.pupils.p2,
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
      }),
    ]);
    await eventually(async () => {
      const erased = await h.client.getMarkHistory({ journal, markId }, teacher);
      expect([erased.comment, ...erased.changes.map((c) => c.reason)]).toEqual(["", "", "", ""]);
    });
    expect(
      (
        await h.store.pool.query(
          "SELECT count(*)::int AS n FROM grades.notes WHERE person_id = $1",
          [f.pupils.p2],
        )
      ).rows[0].n,
    ).toBe(0);
    // Erased stays erased: a later mark is recorded, its comment about the pupil is not kept.
    const later = await h.client.recordMark(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.past,
        mark: mark(f.pupils.p2, MarkValue.MARK_VALUE_FIVE, "ORAL", "после стирания"),
      },
      teacher,
    );
    expect(
      (await h.client.getMarkHistory({ journal, markId: later.markId }, teacher)).comment,
    ).toBe("");
    expect(
      (await h.store.pool.query("SELECT 1 FROM grades.notes WHERE text = $1", ["после стирания"]))
        .rowCount,
    ).toBe(0);
  });

  it("one term mark per pupil and term, with the weighted average offered; a change is a correction", async () => {
    const termJournal = { ...journal, subjectId: f.subjects.math };
    const set = (value: MarkValue, reason = "") =>
      h.client.setTermMark(
        {
          commandId: randomUUID(),
          journal: termJournal,
          studentId: f.pupils.p1,
          term: 1,
          value,
          reason,
        },
        teacher,
      );
    const first = await set(MarkValue.MARK_VALUE_FOUR);
    expect(first.corrected).toBe(false);
    expect(Number(first.weightedAverage)).toBeGreaterThan(0);
    expect(await ruleOf(set(MarkValue.MARK_VALUE_FIVE))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "term_mark_exists",
    });
    expect((await set(MarkValue.MARK_VALUE_FIVE, "пересдача")).corrected).toBe(true);
  });

  it("a term mark is for a pupil on the roll at the end of the term (today while it runs), not one who left before or came after", async () => {
    const [cameLate, leftAfter] = [randomUUID(), randomUUID()];
    const at = { schoolId: f.schoolId, municipalityId: f.municipalityId };
    const enrol = (personId: string, effectiveDate: string) =>
      identityEvent(`person-${personId}`, "StudentEnrolled", {
        personId,
        classGroupId: f.classGroupId,
        ...at,
        academicYear: { startYear: 2026 },
        gradeLevel: 5,
        effectiveDate,
      });
    await publishFeed(h.nc, h.names, [
      enrol(cameLate, "2026-11-05"),
      enrol(leftAfter, "2026-09-01"),
      identityEvent(`person-${leftAfter}`, "StudentWithdrawn", {
        personId: leftAfter,
        classGroupId: f.classGroupId,
        ...at,
        effectiveDate: "2026-11-10",
      }),
    ]);
    await replicaHas(h, "enrollments WHERE person_id = $1 AND until IS NOT NULL", [leftAfter]);
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    const set = (studentId: string, term: number) =>
      h.client.setTermMark(
        {
          commandId: randomUUID(),
          journal,
          studentId,
          term,
          value: MarkValue.MARK_VALUE_FOUR,
          reason: "",
        },
        teacher,
      );
    const notOnRoll = (studentId: string, day: string) => [
      status.FAILED_PRECONDITION,
      ["student_id"],
      `student_id: [student_not_enrolled] pupil ${studentId} is not in this journal's class group (or subgroup) on ${day}`,
    ];
    const refusal = async (p: Promise<unknown>) => {
      const err = await grpcError(p);
      return [err.code, err.metadata.get("field"), err.details];
    };
    // While term 1 runs the roll is today's: the pupil withdrawn on 2026-09-20 is off it.
    h.clock.set("2026-10-20T05:00:00Z");
    expect(await refusal(set(f.pupils.p3, 1))).toEqual(notOnRoll(f.pupils.p3, "2026-10-20"));
    inMay();
    // After it, the roll of its last day (2026-10-31): not the pupil who left before it
    // ended, nor the one who came after; the one who left after it keeps theirs.
    expect(await refusal(set(f.pupils.p3, 1))).toEqual(notOnRoll(f.pupils.p3, "2026-10-31"));
    expect(await refusal(set(cameLate, 1))).toEqual(notOnRoll(cameLate, "2026-10-31"));
    expect((await set(leftAfter, 1)).corrected).toBe(false);
    // Term 2 (to 2026-12-31) and the year (to 2027-05-31): the newcomer's, not the leavers'.
    expect(await refusal(set(leftAfter, 2))).toEqual(notOnRoll(leftAfter, "2026-12-31"));
    expect((await set(cameLate, 2)).corrected).toBe(false);
    expect(await refusal(set(f.pupils.p3, 0))).toEqual(notOnRoll(f.pupils.p3, "2027-05-20"));
    expect(await h.store.streamVersion(stream)).toBe(before + 2);
  });

  it("a pupil who studies the subject in a subgroup has their term mark in its journal, not the whole class's", async () => {
    inMay();
    const g = schoolFixture();
    await publishFeed(h.nc, h.names, g.events);
    await fixtureReplicated(h, g);
    const gAdmin = await h.as([`SCHOOL_ADMIN@school:${g.schoolId}`], randomUUID());
    const gEnglish = await h.as([`TEACHER@school:${g.schoolId}`], g.teachers.eng);
    const wholeClass = { ...journal, classGroupId: g.classGroupId, subjectId: g.subjects.eng };
    const subgroup = { ...wholeClass, subgroupId: g.subgroupId };
    const set = (j: typeof journal, studentId: string, md = gAdmin) =>
      h.client.setTermMark(
        {
          commandId: randomUUID(),
          journal: j,
          studentId,
          term: 1,
          value: MarkValue.MARK_VALUE_FOUR,
          reason: "",
        },
        md,
      );
    // p1 is in the English subgroup from 2026-09-01; p2 in none.
    expect((await set(subgroup, g.pupils.p1, gEnglish)).corrected).toBe(false);
    const err = await grpcError(set(wholeClass, g.pupils.p1));
    expect([err.code, err.metadata.get("field"), err.details]).toEqual([
      status.FAILED_PRECONDITION,
      ["student_id"],
      `student_id: [term_mark_in_subgroup] pupil ${g.pupils.p1} studies this subject in subgroup ${g.subgroupId} on 2026-10-31: their term mark is that subgroup journal's`,
    ]);
    expect(await h.store.streamVersion(`journal-${g.classGroupId}-${g.subjects.eng}-2026`)).toBe(0);
    expect((await set(wholeClass, g.pupils.p2)).corrected).toBe(false);
  });

  it("refuses closing a term that has not begun in the school's zone, in the journal or school-wide, appending nothing", async () => {
    // Today is 2026-09-15: term 2 begins on 2026-11-01. Closing it is a slip of the term
    // number (term 1 was meant), which would leave term 1 open and refuse November's marks.
    const g = schoolFixture();
    await publishFeed(h.nc, h.names, g.events);
    await fixtureReplicated(h, g);
    const gAdmin = await h.as([`SCHOOL_ADMIN@school:${g.schoolId}`], randomUUID());
    const gJournal = { ...journal, classGroupId: g.classGroupId, subjectId: g.subjects.math };
    const err = await grpcError(
      h.client.closeTerm(
        { commandId: randomUUID(), journal: gJournal, term: 2, reason: "итоги", schoolId: "" },
        gAdmin,
      ),
    );
    expect([err.code, err.metadata.get("field"), err.details]).toEqual([
      status.FAILED_PRECONDITION,
      ["term"],
      "term: [term_not_begun] term 2 begins on 2026-11-01, after today (2026-09-15) in the school's zone",
    ]);
    // School-wide, where no journal has begun it, the same slip is refused, not answered OK
    // with every journal unchanged.
    const schoolErr = await grpcError(
      h.client.closeTerm(
        {
          commandId: randomUUID(),
          schoolId: g.schoolId,
          academicYear: { startYear: 2026 },
          term: 2,
          reason: "итоги",
        },
        gAdmin,
      ),
    );
    expect([schoolErr.code, schoolErr.metadata.get("field"), schoolErr.details]).toEqual([
      status.FAILED_PRECONDITION,
      ["term"],
      "term: [term_not_begun] term 2 begins on 2026-11-01, after today (2026-09-15) in the school's zone",
    ]);
    expect(await h.store.streamVersion(`journal-${g.classGroupId}-${g.subjects.math}-2026`)).toBe(
      0,
    );
    // Term 1 has begun: closing it is taken.
    await h.client.closeTerm(
      { commandId: randomUUID(), journal: gJournal, term: 1, reason: "итоги", schoolId: "" },
      gAdmin,
    );
  });

  it("refuses a term mark, or closing a term, the journal's term system does not have, appending nothing", async () => {
    inMay();
    // A school whose grade 5 has trimesters (a later term system replaces the quarters).
    const g = schoolFixture();
    await publishFeed(h.nc, h.names, [
      ...g.events,
      curriculumEvent(`calendar-${g.schoolId}-2026`, "TermSystemDefined", {
        schoolId: g.schoolId,
        municipalityId: g.municipalityId,
        academicYear: { startYear: 2026 },
        gradeLevels: [5],
        kind: TermKind.TERM_KIND_TRIMESTER,
        terms: [
          { number: 1, firstDay: "2026-09-01", lastDay: "2026-11-30" },
          { number: 2, firstDay: "2026-12-01", lastDay: "2027-02-28" },
          { number: 3, firstDay: "2027-03-01", lastDay: "2027-05-31" },
        ],
      }),
    ]);
    await fixtureReplicated(h, g);
    const gAdmin = await h.as([`SCHOOL_ADMIN@school:${g.schoolId}`], randomUUID());
    const gJournal = { ...journal, classGroupId: g.classGroupId, subjectId: g.subjects.math };
    const set = (term: number) =>
      h.client.setTermMark(
        {
          commandId: randomUUID(),
          journal: gJournal,
          studentId: g.pupils.p1,
          term,
          value: MarkValue.MARK_VALUE_FOUR,
          reason: "",
        },
        gAdmin,
      );
    const stream = `journal-${g.classGroupId}-${g.subjects.math}-2026`;
    // Until the trimesters replace the quarters in the replica, term 4 exists: asking before
    // would record it (and did, now and then, when this test retried the command instead).
    await eventually(async () => {
      const { rows } = await h.store.pool.query<{ terms: number }>(
        `SELECT count(*)::int AS terms FROM ${FACTS_SCHEMA}.terms
          WHERE school_id = $1 AND start_year = 2026 AND grade_level = 5`,
        [g.schoolId],
      );
      expect(rows[0]?.terms).toBe(3);
    });
    const err = await grpcError(set(4));
    expect([err.code, err.details]).toEqual([
      status.FAILED_PRECONDITION,
      "term: [no_such_term] this journal's term system has terms 1, 2, 3 (0: the year), not 4",
    ]);
    // Nor is a term it does not have closed, in the journal or school-wide (where no journal
    // has it: the school's only grade level has trimesters).
    expect(
      await ruleOf(
        h.client.closeTerm(
          { commandId: randomUUID(), journal: gJournal, term: 4, reason: "итоги", schoolId: "" },
          gAdmin,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "no_such_term" });
    expect(
      await ruleOf(
        h.client.closeTerm(
          {
            commandId: randomUUID(),
            schoolId: g.schoolId,
            academicYear: { startYear: 2026 },
            term: 4,
            reason: "итоги",
          },
          gAdmin,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "no_such_term" });
    expect(await h.store.streamVersion(stream)).toBe(0);
    expect((await set(3)).corrected).toBe(false);
    expect((await set(0)).corrected).toBe(false);
  });

  it("refuses a correction to the value a mark or term mark already has, appending nothing", async () => {
    inMay();
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const { markId } = await recordMark({ mark: mark(f.pupils.p2, MarkValue.MARK_VALUE_FOUR) });
    await h.client.setTermMark(
      {
        commandId: randomUUID(),
        journal,
        studentId: f.pupils.p2,
        term: 2,
        value: MarkValue.MARK_VALUE_THREE,
        reason: "",
      },
      teacher,
    );
    const before = await h.store.streamVersion(stream);
    const unchanged = await grpcError(
      h.client.correctMark(
        { commandId: randomUUID(), journal, markId, value: MarkValue.MARK_VALUE_FOUR, reason: "x" },
        teacher,
      ),
    );
    expect([unchanged.code, unchanged.metadata.get("field"), unchanged.details]).toEqual([
      status.FAILED_PRECONDITION,
      ["value"],
      expect.stringMatching(/^value: \[value_unchanged\] mark .* is already MARK_VALUE_FOUR$/),
    ]);
    expect(
      await ruleOf(
        h.client.setTermMark(
          {
            commandId: randomUUID(),
            journal,
            studentId: f.pupils.p2,
            term: 2,
            value: MarkValue.MARK_VALUE_THREE,
            reason: "пересдача",
          },
          teacher,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "value_unchanged" });
    expect(await h.store.streamVersion(stream)).toBe(before);
  });

  it("refuses a subgroup journal of a subject the subgroup is not for (a second term mark in the subject)", async () => {
    inMay();
    // The subgroup is English's; a mathematics journal under it would be a second mathematics
    // journal for its members, the whole-class one's teacher writing term marks in both.
    const wrongSubject = { ...journal, subgroupId: f.subgroupId, subjectId: f.subjects.math };
    const set = (j: typeof journal) =>
      h.client.setTermMark(
        {
          commandId: randomUUID(),
          journal: j,
          studentId: f.pupils.p1,
          term: 3,
          value: MarkValue.MARK_VALUE_FOUR,
          reason: "",
        },
        teacher,
      );
    await set(journal);
    const err = await grpcError(set(wrongSubject));
    expect([err.code, err.details]).toEqual([
      status.INVALID_ARGUMENT,
      expect.stringMatching(/^journal\.subgroup_id: subgroup .* is for subject /),
    ]);
    expect(await h.store.streamVersion(`journal-${f.subgroupId}-${f.subjects.math}-2026`)).toBe(0);
  });

  it("a closed term refuses changes except an admin correction with a reason; reopening is an admin action", async () => {
    const j = { ...journal, subjectId: f.subjects.pe };
    const { markId } = await recordMark({
      journal: j,
      lessonId: f.lessons.pe,
      mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_PASS),
    });
    expect(
      (
        await grpcError(
          h.client.closeTerm(
            {
              commandId: randomUUID(),
              journal: j,
              term: 1,
              reason: "конец четверти",
              schoolId: "",
            },
            teacher,
          ),
        )
      ).code,
    ).toBe(status.PERMISSION_DENIED);
    await h.client.closeTerm(
      { commandId: randomUUID(), journal: j, term: 1, reason: "конец четверти", schoolId: "" },
      admin,
    );
    expect(
      await ruleOf(
        recordMark({
          journal: j,
          lessonId: f.lessons.pe,
          mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FAIL),
        }),
      ),
    ).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "term_closed",
    });
    const correct = {
      commandId: randomUUID(),
      journal: j,
      markId,
      value: MarkValue.MARK_VALUE_FAIL,
      reason: "апелляция",
    };
    const closedErr = await grpcError(h.client.correctMark(correct, teacher));
    expect([closedErr.code, closedErr.metadata.get("field"), closedErr.details]).toEqual([
      status.FAILED_PRECONDITION,
      ["mark_id"],
      "mark_id: [term_closed] term 1 is closed; only a school admin may correct it, with a reason",
    ]);
    await h.client.correctMark(correct, admin);
    // An exemption over any day of the closed term (1: to 2026-10-31) is an admin's, marked so.
    const exempt = (firstDay: string, md = teacher) =>
      h.client.grantExemption(
        {
          commandId: randomUUID(),
          journal: j,
          studentId: f.pupils.p2,
          firstDay,
          lastDay: "2026-11-10",
          reason: "медицинская группа",
        },
        md,
      );
    expect(await ruleOf(exempt("2026-10-31"))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "term_closed",
    });
    await exempt("2026-11-01");
    const { exemptionId } = await exempt("2026-10-20", admin);
    const granted = (await h.store.readStream(`journal-${f.classGroupId}-${j.subjectId}-2026`))
      .filter((e) => e.type === "grades.v1.ExemptionGranted")
      .map((e) => e.data as { exemptionId: string; inClosedTerm?: boolean });
    expect(granted).toHaveLength(2);
    expect(granted.find((e) => e.exemptionId === exemptionId)?.inClosedTerm).toBe(true);
    await h.client.reopenTerm(
      { commandId: randomUUID(), journal: j, term: 1, reason: "проверка", schoolId: "" },
      admin,
    );
    await recordMark({
      journal: j,
      lessonId: f.lessons.pe,
      mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FAIL),
    });
  });
});

it("closes a term in every journal of the school; a retry changes nothing; reopens it", async () => {
  inMay();
  const school = {
    journal: undefined,
    schoolId: f.schoolId,
    academicYear: { startYear: 2026 },
    term: 2,
    reason: "конец полугодия",
  };
  const commandId = randomUUID();
  expect((await grpcError(h.client.closeTerm({ ...school, commandId }, teacher))).code).toBe(
    status.PERMISSION_DENIED,
  );
  const closed = await h.client.closeTerm({ ...school, commandId }, admin);
  expect(closed).toEqual({ replayed: false, journals: 3, unchanged: 0 });
  expect(await h.client.closeTerm({ ...school, commandId }, admin)).toEqual({
    replayed: true,
    journals: 3,
    unchanged: 0,
  });
  expect(await h.client.closeTerm({ ...school, commandId: randomUUID() }, admin)).toMatchObject({
    journals: 0,
    unchanged: 3,
  });
  const setTerm2 = h.client.setTermMark(
    {
      commandId: randomUUID(),
      journal,
      studentId: f.pupils.p1,
      term: 2,
      value: MarkValue.MARK_VALUE_FIVE,
      reason: "",
    },
    teacher,
  );
  expect(await ruleOf(setTerm2)).toEqual({ code: status.FAILED_PRECONDITION, rule: "term_closed" });
  expect(await h.client.reopenTerm({ ...school, commandId: randomUUID() }, admin)).toMatchObject({
    journals: 3,
  });
});

describe("attendance, exemptions and work types", () => {
  it("takes attendance with nobody absent, then absences and lateness; excuses later with a note", async () => {
    const take = (absences: { studentId: string; reason: AbsenceReason; lateMinutes: number }[]) =>
      h.client.recordAttendance(
        { commandId: randomUUID(), journal, lessonId: f.lessons.subDay, absences },
        admin,
      );
    await take([]);
    await take([
      { studentId: f.pupils.p1, reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED, lateMinutes: 0 },
      { studentId: f.pupils.p3, reason: AbsenceReason.ABSENCE_REASON_NONE, lateMinutes: 15 },
    ]);
    await h.client.excuseAbsence(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.subDay,
        studentId: f.pupils.p1,
        note: "справка",
      },
      admin,
    );
    expect(
      await ruleOf(
        h.client.excuseAbsence(
          {
            commandId: randomUUID(),
            journal,
            lessonId: f.lessons.subDay,
            studentId: f.pupils.p3,
            note: "",
          },
          admin,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "not_absent" });
  });

  it("refuses excusing an absence twice and appends nothing; a retry of the first excusal answers OK", async () => {
    const lessonId = f.lessons.past;
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const excused = async () =>
      (await h.store.readStream(stream)).filter(
        (e) =>
          e.type === "grades.v1.AbsenceExcused" &&
          (e.data as { lessonId: string }).lessonId === lessonId,
      );
    await h.client.recordAttendance(
      {
        commandId: randomUUID(),
        journal,
        lessonId,
        absences: [
          {
            studentId: f.pupils.p2,
            reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
            lateMinutes: 0,
          },
        ],
      },
      admin,
    );
    const first = {
      commandId: randomUUID(),
      journal,
      lessonId,
      studentId: f.pupils.p2,
      note: "справка",
    };
    expect((await h.client.excuseAbsence(first, admin)).replayed).toBe(false);
    expect(
      await ruleOf(h.client.excuseAbsence({ ...first, commandId: randomUUID() }, admin)),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "absence_already_excused" });
    expect((await h.client.excuseAbsence(first, admin)).replayed).toBe(true);
    expect(await excused()).toHaveLength(1);
  });

  it("an absence recorded as ILLNESS or EXCUSED is already excused; a retry of an earlier excusal still answers", async () => {
    const lessonId = f.lessons.past;
    const absent = (studentId: string, reason: AbsenceReason) => ({
      studentId,
      reason,
      lateMinutes: 0,
    });
    const take = (absences: ReturnType<typeof absent>[]) =>
      h.client.recordAttendance({ commandId: randomUUID(), journal, lessonId, absences }, teacher);
    const excuse = (studentId: string, commandId: string = randomUUID()) =>
      h.client.excuseAbsence({ commandId, journal, lessonId, studentId, note: "" }, teacher);
    await take([absent(f.pupils.p3, AbsenceReason.ABSENCE_REASON_UNEXCUSED)]);
    const first = randomUUID();
    expect((await excuse(f.pupils.p3, first)).replayed).toBe(false);
    // Taken again: p3's absence is now recorded as excused by its reason.
    await take([
      absent(f.pupils.p1, AbsenceReason.ABSENCE_REASON_ILLNESS),
      absent(f.pupils.p3, AbsenceReason.ABSENCE_REASON_EXCUSED),
    ]);
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    for (const studentId of [f.pupils.p1, f.pupils.p3]) {
      expect(await ruleOf(excuse(studentId))).toEqual({
        code: status.FAILED_PRECONDITION,
        rule: "absence_already_excused",
      });
    }
    expect(await excuse(f.pupils.p3, first)).toEqual({ replayed: true });
    expect(await h.store.streamVersion(stream)).toBe(before);
  });

  it("a caller who may not excuse gets PERMISSION_DENIED whatever the absence's state", async () => {
    const stranger = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.stranger);
    const excuse = (lessonId: string, studentId: string, md = stranger) =>
      h.client.excuseAbsence(
        { commandId: randomUUID(), journal, lessonId, studentId, note: "" },
        md,
      );
    // Nobody absent first: an earlier test's excusal of p1 goes with its absence.
    await h.client.recordAttendance(
      { commandId: randomUUID(), journal, lessonId: f.lessons.subDay, absences: [] },
      teacher,
    );
    await h.client.recordAttendance(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.subDay,
        absences: [
          {
            studentId: f.pupils.p1,
            reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
            lateMinutes: 0,
          },
          { studentId: f.pupils.p2, reason: AbsenceReason.ABSENCE_REASON_ILLNESS, lateMinutes: 0 },
        ],
      },
      teacher,
    );
    await excuse(f.lessons.subDay, f.pupils.p1, teacher);
    const cases = [
      [f.lessons.subDay, f.pupils.p1, "absence_already_excused"],
      [f.lessons.subDay, f.pupils.p2, "absence_already_excused"],
      [f.lessons.subDay, f.pupils.p3, "not_absent"],
      [f.lessons.late, f.pupils.p1, "attendance_not_recorded"],
    ] as const;
    for (const [lessonId, studentId, rule] of cases) {
      expect(await ruleOf(excuse(lessonId, studentId, teacher))).toEqual({
        code: status.FAILED_PRECONDITION,
        rule,
      });
      expect(await ruleOf(excuse(lessonId, studentId))).toEqual({
        code: status.PERMISSION_DENIED,
        rule: "author_not_assigned",
      });
    }
    // A lesson the replica has not seen: retry later, as for every other command.
    expect((await grpcError(excuse(randomUUID(), f.pupils.p1, teacher))).code).toBe(
      status.UNAVAILABLE,
    );
  });

  it("judges who may excuse on the date the attendance was taken for, also after the lesson moved", async () => {
    // A maths lesson on 2026-09-14 (the substitute's days are 2026-09-14..18), moved to
    // 2026-09-11 after attendance was taken, and a second substitute for 2026-09-11 only.
    const newDaySub = randomUUID();
    const lessonAt = mathLesson("2026-09-14", f.teachers.math);
    const { lessonId } = lessonAt;
    await publishFeed(h.nc, h.names, [
      scheduled(lessonAt),
      curriculumEvent(`timetable-${f.schoolId}-2026`, "SubstituteAssigned", {
        assignmentId: f.mathAssignment,
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
        academicYear: { startYear: 2026 },
        substituteId: newDaySub,
        firstDay: "2026-09-11",
        lastDay: "2026-09-11",
      }),
    ]);
    const lessonDate = async () => (await replicaLesson(lessonId))?.date;
    await eventually(async () => expect(await lessonDate()).toBe("2026-09-14"));
    const absence = (studentId: string) => ({
      studentId,
      reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
      lateMinutes: 0,
    });
    await h.client.recordAttendance(
      {
        commandId: randomUUID(),
        journal,
        lessonId,
        absences: [absence(f.pupils.p1), absence(f.pupils.p2)],
      },
      teacher,
    );
    await publishFeed(h.nc, h.names, [
      lessonEvent("LessonMoved", lessonAt, { toDate: "2026-09-11", toPeriod: 1, toTerm: 1 }),
    ]);
    await eventually(async () => expect(await lessonDate()).toBe("2026-09-11"));
    const excuse = (studentId: string, md: typeof teacher) =>
      h.client.excuseAbsence(
        { commandId: randomUUID(), journal, lessonId, studentId, note: "справка" },
        md,
      );
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    const newDay = await h.as([`TEACHER@school:${f.schoolId}`], newDaySub);
    const err = await grpcError(excuse(f.pupils.p1, newDay));
    expect([err.code, err.details]).toEqual([
      status.PERMISSION_DENIED,
      expect.stringMatching(/\[author_not_assigned\].*2026-09-14/),
    ]);
    expect(await h.store.streamVersion(stream)).toBe(before);
    const sub = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.sub);
    expect((await excuse(f.pupils.p1, sub)).replayed).toBe(false);
    // Taken again on the lesson's new date: that date is the one judged from then on.
    await h.client.recordAttendance(
      { commandId: randomUUID(), journal, lessonId, absences: [absence(f.pupils.p2)] },
      teacher,
    );
    expect((await excuse(f.pupils.p2, newDay)).replayed).toBe(false);
  });

  it("refuses excusing an absence on a lesson cancelled or unscheduled after attendance was taken", async () => {
    const [cancelled, unscheduled] = [
      mathLesson("2026-09-14", f.teachers.math),
      mathLesson("2026-09-15", f.teachers.math),
    ];
    await publishFeed(h.nc, h.names, [scheduled(cancelled), scheduled(unscheduled)]);
    await eventually(async () => expect(await replicaLesson(unscheduled.lessonId)).toBeDefined());
    for (const { lessonId } of [cancelled, unscheduled])
      await h.client.recordAttendance(
        {
          commandId: randomUUID(),
          journal,
          lessonId,
          absences: [
            {
              studentId: f.pupils.p1,
              reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
              lateMinutes: 0,
            },
          ],
        },
        teacher,
      );
    await publishFeed(h.nc, h.names, [
      lessonEvent("LessonCancelled", cancelled, { reason: "карантин" }),
      lessonEvent("LessonUnscheduled", unscheduled, { reason: "no longer in the timetable" }),
    ]);
    await eventually(async () => {
      expect((await replicaLesson(cancelled.lessonId))?.status).toBe("CANCELLED");
      expect((await replicaLesson(unscheduled.lessonId))?.status).toBe("UNSCHEDULED");
    });
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    for (const [{ lessonId }, rule] of [
      [cancelled, "lesson_cancelled"],
      [unscheduled, "lesson_not_in_journal"],
    ] as const) {
      for (const md of [teacher, admin]) {
        const excuse = { commandId: randomUUID(), journal, lessonId, note: "справка" };
        expect(
          await ruleOf(h.client.excuseAbsence({ ...excuse, studentId: f.pupils.p1 }, md)),
        ).toEqual({ code: status.FAILED_PRECONDITION, rule });
      }
    }
    expect(await h.store.streamVersion(stream)).toBe(before);
  });

  it("a comment is the one the recorded command carried, also when its id first ran and was refused", async () => {
    const commandId = randomUUID();
    const first = {
      commandId,
      journal,
      lessonId: f.lessons.past,
      mark: mark(f.pupils.other, MarkValue.MARK_VALUE_FOUR, "ORAL", "первый вариант"),
    };
    // Refused (not enrolled): nothing recorded under the id, so it may run again corrected.
    expect((await ruleOf(h.client.recordMark(first, teacher))).rule).toBe("student_not_enrolled");
    const { markId } = await h.client.recordMark(
      { ...first, mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FOUR, "ORAL", "исправленный") },
      teacher,
    );
    expect((await h.client.getMarkHistory({ journal, markId }, teacher)).comment).toBe(
      "исправленный",
    );
  });

  it("grants an exemption to an enrolled pupil; one inside it adds no day and appends nothing", async () => {
    const grant = {
      commandId: randomUUID(),
      journal,
      studentId: f.pupils.p1,
      firstDay: "2026-09-21",
      lastDay: "2026-12-31",
      reason: "медицинская группа",
    };
    const r = await h.client.grantExemption(grant, admin);
    expect(r.exemptionId).not.toBe("");
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    const reason = `справка ${randomUUID()}`;
    const inside = { ...grant, commandId: randomUUID(), firstDay: "2026-10-01", reason };
    expect(await ruleOf(h.client.grantExemption(inside, admin))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "already_exempt",
    });
    expect(await h.store.streamVersion(stream)).toBe(before);
    const notes = await h.store.pool.query("SELECT 1 FROM grades.notes WHERE text = $1", [reason]);
    expect(notes.rowCount).toBe(0);
    // A retry of the first grant still answers it.
    expect(await h.client.grantExemption(grant, admin)).toEqual({ ...r, replayed: true });
  });

  it("refuses an exemption whose later days fall after the pupil left the class group or subgroup, naming last_day", async () => {
    const at = { schoolId: f.schoolId, municipalityId: f.municipalityId };
    const year = { startYear: 2026 };
    const [moved, returned, leftGroup] = [randomUUID(), randomUUID(), randomUUID()];
    const enrol = (personId: string, effectiveDate: string) =>
      identityEvent(`person-${personId}`, "StudentEnrolled", {
        personId,
        classGroupId: f.classGroupId,
        ...at,
        academicYear: year,
        gradeLevel: 5,
        effectiveDate,
      });
    await publishFeed(h.nc, h.names, [
      enrol(moved, "2026-09-01"),
      identityEvent(`person-${moved}`, "StudentTransferred", {
        personId: moved,
        fromClassGroupId: f.classGroupId,
        fromSchoolId: f.schoolId,
        fromMunicipalityId: f.municipalityId,
        toClassGroupId: f.otherClassGroupId,
        ...at,
        academicYear: year,
        gradeLevel: 5,
        effectiveDate: "2026-10-01",
      }),
      // Away from 2026-10-01 to 2026-10-14, back from 2026-10-15.
      enrol(returned, "2026-09-01"),
      identityEvent(`person-${returned}`, "StudentWithdrawn", {
        personId: returned,
        classGroupId: f.classGroupId,
        ...at,
        effectiveDate: "2026-10-01",
      }),
      enrol(returned, "2026-10-15"),
      enrol(leftGroup, "2026-09-01"),
      identityEvent(`sg-${f.subgroupId}`, "SubgroupMemberAdded", {
        subgroupId: f.subgroupId,
        personId: leftGroup,
        ...at,
        effectiveDate: "2026-09-01",
      }),
      identityEvent(`sg-${f.subgroupId}`, "SubgroupMemberRemoved", {
        subgroupId: f.subgroupId,
        personId: leftGroup,
        ...at,
        effectiveDate: "2026-11-01",
      }),
    ]);
    await eventually(async () => {
      const { rows } = await h.store.pool.query(
        "SELECT 1 FROM proj_grades_facts.subgroup_members WHERE person_id = $1 AND until IS NOT NULL",
        [leftGroup],
      );
      expect(rows).toHaveLength(1);
    });
    const engJournal = { ...journal, subgroupId: f.subgroupId, subjectId: f.subjects.eng };
    const exempt = (studentId: string, firstDay: string, lastDay: string, j = journal) =>
      h.client.grantExemption(
        { commandId: randomUUID(), journal: j, studentId, firstDay, lastDay, reason: "ЛФК" },
        admin,
      );
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    for (const [studentId, firstDay, lastDay, j] of [
      [moved, "2026-09-15", "2026-12-31", journal],
      [f.pupils.p3, "2026-09-15", "2026-09-20", journal],
      [returned, "2026-09-20", "2026-10-20", journal],
      [leftGroup, "2026-10-20", "2026-11-01", engJournal],
    ] as const) {
      const err = await grpcError(exempt(studentId, firstDay, lastDay, j));
      expect([err.code, err.details]).toEqual([
        status.FAILED_PRECONDITION,
        expect.stringMatching(/^last_day: \[student_not_enrolled\]/),
      ]);
    }
    expect(await h.store.streamVersion(stream)).toBe(before);
    // Enrolled on every day: granted (the day before leaving, and the days after returning).
    await exempt(moved, "2026-09-15", "2026-09-30");
    await exempt(f.pupils.p3, "2026-09-15", "2026-09-19");
    await exempt(returned, "2026-10-15", "2026-12-31");
    await exempt(leftGroup, "2026-10-20", "2026-10-31", engJournal);
  });

  it("a substitute grants an exemption only over the days they teach the journal", async () => {
    const sub = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.sub);
    const exempt = (lastDay: string) =>
      h.client.grantExemption(
        {
          commandId: randomUUID(),
          journal,
          studentId: f.pupils.p1,
          firstDay: "2026-09-15",
          lastDay,
          reason: "ЛФК",
        },
        sub,
      );
    // The substitution runs 2026-09-14..18.
    expect(await ruleOf(exempt("2026-09-30"))).toEqual({
      code: status.PERMISSION_DENIED,
      rule: "author_not_assigned",
    });
    expect((await exempt("2026-09-18")).exemptionId).not.toBe("");
  });

  it("refuses an exemption outside the school year, naming the field and the year's bounds, appending nothing", async () => {
    const exempt = (firstDay: string, lastDay: string, j = journal) =>
      h.client.grantExemption(
        {
          commandId: randomUUID(),
          journal: j,
          studentId: f.pupils.p1,
          firstDay,
          lastDay,
          reason: "ЛФК",
        },
        admin,
      );
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    // The fixture's quarters tile the school year 2026-09-01..2027-05-31.
    for (const [firstDay, lastDay, field] of [
      ["2026-08-31", "2026-09-10", "first_day"],
      ["2027-05-20", "2027-06-01", "last_day"],
      ["2027-05-01", "2027-09-15", "last_day"],
    ] as const) {
      const err = await grpcError(exempt(firstDay, lastDay));
      expect([err.code, err.details]).toEqual([
        status.FAILED_PRECONDITION,
        expect.stringMatching(
          new RegExp(`^${field}: \\[outside_academic_year\\] .*2026-09-01\\.\\.2027-05-31`),
        ),
      ]);
    }
    expect(await h.store.streamVersion(stream)).toBe(before);
    // The bounds themselves are in the year (in the PE journal: the whole year would hold every
    // later exemption of the pupil in mathematics, which adds no day there).
    await exempt("2026-09-01", "2027-05-31", { ...journal, subjectId: f.subjects.pe });

    // A school whose term system has not reached grades: its year's days are not known yet.
    const g = schoolFixture();
    const isTermSystem = (e: { event: { type: string } }) =>
      e.event.type.endsWith(".TermSystemDefined");
    await publishFeed(
      h.nc,
      h.names,
      g.events.filter((e) => !isTermSystem(e)),
    );
    await fixtureReplicated(h, g);
    const gAdmin = await h.as([`SCHOOL_ADMIN@school:${g.schoolId}`], randomUUID());
    const gJournal = { ...journal, classGroupId: g.classGroupId, subjectId: g.subjects.math };
    const request = {
      commandId: randomUUID(),
      journal: gJournal,
      studentId: g.pupils.p1,
      firstDay: "2026-09-15",
      lastDay: "2026-12-31",
      reason: "ЛФК",
    };
    const err = await grpcError(h.client.grantExemption(request, gAdmin));
    expect([err.code, err.details]).toEqual([
      status.UNAVAILABLE,
      expect.stringMatching(/^first_day: /),
    ]);
    // Outside 1 September..31 August it is outside whatever the school's year will be.
    expect(
      await ruleOf(
        h.client.grantExemption(
          { ...request, commandId: randomUUID(), firstDay: "2026-08-31" },
          gAdmin,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "outside_academic_year" });
    await publishFeed(h.nc, h.names, g.events.filter(isTermSystem));
    await eventually(async () => {
      expect((await h.client.grantExemption(request, gAdmin)).exemptionId).not.toBe("");
    });
  });

  it("uses the school's own work-type weights once set", async () => {
    const setWeights = (weights: { workType: string; weight: number }[]) =>
      h.client.setWorkTypeWeights(
        { commandId: randomUUID(), schoolId: f.schoolId, weights },
        admin,
      );
    await setWeights([
      { workType: "ORAL", weight: 1 },
      { workType: "TEST", weight: 5 },
    ]);
    expect(
      (await recordMark({ mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FIVE, "TEST") })).weight,
    ).toBe(5);
    // The same table again (in another order) changes nothing: refused, nothing appended.
    const tableStream = `worktypes-${f.schoolId}`;
    const before = await h.store.streamVersion(tableStream);
    const again = await grpcError(
      setWeights([
        { workType: "TEST", weight: 5 },
        { workType: "ORAL", weight: 1 },
      ]),
    );
    expect([again.code, again.details]).toEqual([
      status.FAILED_PRECONDITION,
      `weights: [weights_unchanged] school ${f.schoolId}'s work-type table is already TEST 5, ORAL 1`,
    ]);
    expect(await h.store.streamVersion(tableStream)).toBe(before);
    expect(
      (
        await grpcError(
          recordMark({ mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FIVE, "CONTROL") }),
        )
      ).code,
    ).toBe(status.INVALID_ARGUMENT);
    const marks = await h.client.listStudentMarks(
      { journal, studentId: f.pupils.p1, fromDate: "", toDate: "" },
      teacher,
    );
    expect(marks.marks.length).toBeGreaterThan(3);
    expect(marks.weightedAverage).not.toBe("");
  });
});

describe("free text (grades.notes) only with a recorded command", () => {
  const stream = () => `journal-${f.classGroupId}-${f.subjects.math}-2026`;
  const notes = async () =>
    (
      await h.store.pool.query<{ note_id: string; person_id: string; text: string }>(
        "SELECT note_id, person_id, text FROM grades.notes ORDER BY note_id",
      )
    ).rows;
  const noteOf = async (id: string) =>
    (await notes()).find((n) => n.note_id === id && id !== "")?.text;
  const lastEvent = async () => (await h.store.readStream(stream())).at(-1)!;

  it("a refused command (no rights, bad state, validation) stores no note", async () => {
    inMay();
    const stranger = await h.as([`TEACHER@school:${f.schoolId}`], f.teachers.stranger);
    const { markId } = await recordMark();
    const before = await notes();
    const denied = { code: status.PERMISSION_DENIED, rule: "author_not_assigned" };
    expect(
      await ruleOf(
        recordMark(
          { mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_TWO, "ORAL", "списывал") },
          stranger,
        ),
      ),
    ).toEqual(denied);
    expect(
      await ruleOf(
        h.client.recordMarks(
          {
            commandId: randomUUID(),
            journal,
            lessonId: f.lessons.past,
            marks: [
              mark(f.pupils.p1, MarkValue.MARK_VALUE_FIVE, "ORAL", "молодец"),
              mark(f.pupils.other, MarkValue.MARK_VALUE_TWO, "ORAL", "не готов"),
            ],
          },
          teacher,
        ),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, rule: "student_not_enrolled" });
    const excuse = (lessonId: string, md: typeof teacher) =>
      h.client.excuseAbsence(
        {
          commandId: randomUUID(),
          journal,
          lessonId,
          studentId: f.pupils.p1,
          note: "справка из больницы",
        },
        md,
      );
    expect(await ruleOf(excuse(f.lessons.past, stranger))).toEqual(denied);
    expect(await ruleOf(excuse(f.lessons.late, teacher))).toEqual({
      code: status.FAILED_PRECONDITION,
      rule: "attendance_not_recorded",
    });
    expect(
      await ruleOf(
        h.client.grantExemption(
          {
            commandId: randomUUID(),
            journal,
            studentId: f.pupils.p1,
            firstDay: "2026-09-15",
            lastDay: "2026-12-31",
            reason: "диагноз: астма",
          },
          stranger,
        ),
      ),
    ).toEqual(denied);
    expect(
      await ruleOf(
        h.client.correctMark(
          {
            commandId: randomUUID(),
            journal,
            markId,
            value: MarkValue.MARK_VALUE_TWO,
            reason: "по просьбе родителей",
          },
          stranger,
        ),
      ),
    ).toEqual(denied);
    expect(
      await ruleOf(
        h.client.setTermMark(
          {
            commandId: randomUUID(),
            journal,
            studentId: f.pupils.p1,
            term: 3,
            value: MarkValue.MARK_VALUE_TWO,
            reason: "проблемы в семье",
          },
          stranger,
        ),
      ),
    ).toEqual(denied);
    expect(await notes()).toEqual(before);
  });

  it("a recorded command stores its note, readable as before; a retry writes no second note", async () => {
    const req = {
      commandId: randomUUID(),
      journal,
      lessonId: f.lessons.past,
      mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_FOUR, "ORAL", "хорошо, но неаккуратно"),
    };
    const before = (await notes()).length;
    const { markId } = await h.client.recordMark(req, teacher);
    expect((await h.client.getMarkHistory({ journal, markId }, teacher)).comment).toBe(
      "хорошо, но неаккуратно",
    );
    expect((await notes()).length).toBe(before + 1);
    expect((await h.client.recordMark(req, teacher)).replayed).toBe(true);
    expect((await notes()).length).toBe(before + 1);
    // Erased meanwhile (as PersonErased does): a retry does not write the text again.
    await h.store.pool.query("DELETE FROM grades.notes WHERE text = $1", [req.mark.comment]);
    expect((await h.client.recordMark(req, teacher)).replayed).toBe(true);
    expect((await notes()).length).toBe(before);

    const exemption = {
      commandId: randomUUID(),
      journal,
      studentId: f.pupils.p1,
      firstDay: "2026-09-15",
      lastDay: "2026-10-31",
      reason: "после операции",
    };
    await h.client.grantExemption(exemption, admin);
    const granted = (await lastEvent()).data as { reasonNoteId: string; studentId: string };
    expect(await noteOf(granted.reasonNoteId)).toBe("после операции");
    expect((await h.client.grantExemption(exemption, admin)).replayed).toBe(true);

    await h.client.recordAttendance(
      {
        commandId: randomUUID(),
        journal,
        lessonId: f.lessons.past,
        absences: [
          {
            studentId: f.pupils.p1,
            reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
            lateMinutes: 0,
          },
        ],
      },
      teacher,
    );
    const excusal = {
      commandId: randomUUID(),
      journal,
      lessonId: f.lessons.past,
      studentId: f.pupils.p1,
      note: "справка №12",
    };
    await h.client.excuseAbsence(excusal, teacher);
    const excused = (await lastEvent()).data as { noteId: string };
    expect(await noteOf(excused.noteId)).toBe("справка №12");
    expect((await h.client.excuseAbsence(excusal, teacher)).replayed).toBe(true);
    expect((await notes()).length).toBe(before + 2);
  });

  it("commented marks on different journals share a group commit, notes with their events; an erasure meanwhile keeps none", async () => {
    const journals = new JournalStore(h.store);
    const [erased, kept] = [randomUUID(), randomUUID()];
    const streams = Array.from({ length: 8 }, () => `journal-${randomUUID()}`);
    // Loaded first, so that the commands are decided, and submitted, in one turn.
    for (const s of streams) await journals.read(s);
    const commands = streams.map((streamId, i) => {
      const note = { noteId: randomUUID(), personId: i % 2 ? kept : erased, text: `batched ${i}` };
      const event = newEvent("MarkRecorded", {
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
        journal: {
          ...journal,
          journalId: streamId,
          schoolId: f.schoolId,
          municipalityId: f.municipalityId,
        },
        markId: randomUUID(),
        lessonId: f.lessons.past,
        lessonDate: "2026-09-10",
        term: 1,
        studentId: note.personId,
        value: "MARK_VALUE_FOUR",
        workType: "ORAL",
        weight: 1,
        authorId: f.teachers.math,
        noteId: note.noteId,
      });
      return {
        streamId,
        commandId: randomUUID(),
        payload: { i },
        decide: () => [event],
        result: () => ({}),
        notes: [note],
      };
    });
    // An erasure being handled (as facts.ts does it) holds the notes' lock until it commits:
    // the batch's notes wait for it and then see the person erased.
    const eraser = await h.store.pool.connect();
    try {
      await eraser.query("BEGIN");
      await eraser.query(`SELECT pg_advisory_xact_lock(${NOTES_LOCK})`);
      await eraser.query(`INSERT INTO ${FACTS_SCHEMA}.erased_persons VALUES ($1)`, [erased]);
      const running = Promise.all(commands.map((c) => journals.run(c)));
      await eventually(async () => {
        const { rows } = await h.store.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
              AND wait_event = 'advisory' AND query LIKE '%pg_advisory_xact_lock_shared%'`,
        );
        expect(rows.length).toBeGreaterThan(0);
      });
      await eraser.query("COMMIT");
      expect((await running).every((r) => !r.replayed)).toBe(true);
    } finally {
      eraser.release();
    }
    for (const s of streams) expect(await h.store.streamVersion(s)).toBe(1);
    const { rows: txs } = await h.store.pool.query<{ n: number }>(
      "SELECT count(DISTINCT transaction_id)::int AS n FROM eventstore.events WHERE stream_id = ANY($1)",
      [streams],
    );
    expect(txs[0]!.n).toBeLessThan(streams.length);
    // The kept pupil's notes, each committed by the transaction of the event naming it.
    const { rows } = await h.store.pool.query<{ person_id: string; same: boolean }>(
      `SELECT n.person_id, n.xmin::text::bigint = e.transaction_id::text::bigint % 4294967296 AS same
         FROM grades.notes n JOIN eventstore.events e ON e.data->>'noteId' = n.note_id
        WHERE e.stream_id = ANY($1)`,
      [streams],
    );
    expect(rows).toEqual(Array.from({ length: 4 }, () => ({ person_id: kept, same: true })));
  });

  it("a first term mark's reason, named by no event, is not stored", async () => {
    inMay();
    const before = await notes();
    const r = await h.client.setTermMark(
      {
        commandId: randomUUID(),
        journal,
        studentId: f.pupils.p1,
        term: 4,
        value: MarkValue.MARK_VALUE_FOUR,
        reason: "старался",
      },
      teacher,
    );
    expect(r.corrected).toBe(false);
    expect(await notes()).toEqual(before);
  });
});

describe("queries", () => {
  it("lists a pupil's marks in a period for staff and for the pupil themself, not for another pupil", async () => {
    // Its own marks (other tests' marks may be there too): one in the period, one before it.
    const inside = await recordMark({ lessonId: f.lessons.subDay }, admin);
    const before = await recordMark({ lessonId: f.lessons.past });
    const me = await h.as(["STUDENT"], f.pupils.p1);
    const mine = await h.client.listStudentMarks(
      { journal, studentId: f.pupils.p1, fromDate: "2026-09-15", toDate: "2026-09-30" },
      me,
    );
    const ids = mine.marks.map((m) => m.markId);
    expect(ids).toContain(inside.markId);
    expect(ids).not.toContain(before.markId);
    expect(
      mine.marks.every((m) => m.lessonDate >= "2026-09-15" && m.lessonDate <= "2026-09-30"),
    ).toBe(true);
    const staff = await h.client.listStudentMarks(
      { journal, studentId: f.pupils.p1, fromDate: "", toDate: "" },
      teacher,
    );
    expect(staff.marks.map((m) => m.markId)).toEqual(
      expect.arrayContaining([inside.markId, before.markId]),
    );
    const other = await grpcError(
      h.client.listStudentMarks({ journal, studentId: f.pupils.p2, fromDate: "", toDate: "" }, me),
    );
    expect(other.code).toBe(status.PERMISSION_DENIED);
    const bad = await grpcError(
      h.client.listStudentMarks(
        { journal, studentId: f.pupils.p1, fromDate: "15.09.2026", toDate: "" },
        teacher,
      ),
    );
    expect([bad.code, bad.details]).toEqual([
      status.INVALID_ARGUMENT,
      expect.stringMatching(/^from_date/),
    ]);
  });

  it("refuses a period whose from_date is after its to_date, naming from_date", async () => {
    const err = await grpcError(
      h.client.listStudentMarks(
        { journal, studentId: f.pupils.p1, fromDate: "2026-09-30", toDate: "2026-09-15" },
        teacher,
      ),
    );
    expect([err.code, err.details]).toEqual([
      status.INVALID_ARGUMENT,
      expect.stringMatching(/^from_date: .*to_date/),
    ]);
  });

  it("reads no journal of a subgroup outside the named class group (another school's marks)", async () => {
    const g = schoolFixture();
    await publishFeed(h.nc, h.names, g.events);
    await fixtureReplicated(h, g);
    const gJournal = {
      ...journal,
      classGroupId: g.classGroupId,
      subgroupId: g.subgroupId,
      subjectId: g.subjects.eng,
    };
    const gEng = await h.as([`TEACHER@school:${g.schoolId}`], g.teachers.eng);
    const { markId } = await h.client.recordMark(
      {
        commandId: randomUUID(),
        journal: gJournal,
        lessonId: g.lessons.eng,
        mark: mark(g.pupils.p1, MarkValue.MARK_VALUE_TWO, "ORAL", "плохо себя чувствовал"),
      },
      gEng,
    );
    // This school's teacher names their own class group with the other school's subgroup: the
    // subgroup's journal stream is the other school's.
    const crossed = { ...gJournal, classGroupId: f.classGroupId };
    // One call at a time: a second one made up front could fail before it is awaited, an
    // unhandled rejection that fails the run.
    for (const query of [
      () => h.client.getMarkHistory({ journal: crossed, markId }, teacher),
      () =>
        h.client.listStudentMarks(
          { journal: crossed, studentId: g.pupils.p1, fromDate: "", toDate: "" },
          teacher,
        ),
    ]) {
      const err = await grpcError(query());
      expect([err.code, err.details]).toEqual([
        status.INVALID_ARGUMENT,
        expect.stringMatching(/^journal\.subgroup_id: /),
      ]);
    }
    expect((await h.client.getMarkHistory({ journal: gJournal, markId }, gEng)).comment).toBe(
      "плохо себя чувствовал",
    );
  });
});

describe("concurrency and availability", () => {
  it("two writers (two journal caches, as two processes) on one journal lose no update", async () => {
    const other = { ...h.deps, journals: new JournalStore(h.store) };
    const call = {
      caller: {
        kind: "user" as const,
        accountId: randomUUID(),
        personId: f.teachers.math,
        grants: [{ role: "TEACHER" as const, scope: { kind: "school" as const, id: f.schoolId } }],
        token: "",
      },
      metadata: {},
    };
    const j = { ...journal, subjectId: f.subjects.math };
    const stream = `journal-${f.classGroupId}-${f.subjects.math}-2026`;
    const before = await h.store.streamVersion(stream);
    // Every other mark has a comment: its note commits in the append's own transaction,
    // through the conflicts and the locked path too.
    const tag = randomUUID();
    const one = (deps: typeof h.deps, i: number) =>
      recordMarks(deps, call, {
        commandId: randomUUID(),
        journal: j,
        lessonId: f.lessons.past,
        marks: [
          mark(f.pupils.p1, MarkValue.MARK_VALUE_FIVE, "ORAL", i % 4 < 2 ? "" : `${tag} ${i}`),
        ].map((m) => ({ ...m, value: "MARK_VALUE_FIVE" })),
      });
    await Promise.all(Array.from({ length: 40 }, (_, i) => one(i % 2 === 0 ? h.deps : other, i)));
    expect(await h.store.streamVersion(stream)).toBe(before + 40);
    const { rows } = await h.store.pool.query<{ text: string }>(
      "SELECT text FROM grades.notes WHERE starts_with(text, $1) ORDER BY text",
      [tag],
    );
    const named = (await h.store.readStream(stream, { fromVersion: before + 1 })).filter(
      (e) => (e.data as { noteId: string }).noteId !== "",
    );
    expect(rows).toHaveLength(20);
    expect(named).toHaveLength(20);
    const a = await h.deps.journals.read(stream);
    const b = await other.journals.read(stream);
    expect(a.marks.size).toBe(b.marks.size);
    expect([...a.marks.keys()].sort()).toEqual([...b.marks.keys()].sort());
  });

  it("a retry racing its first run (same command id, read before that run committed) gets the first run's answer, not a refusal", async () => {
    const g = schoolFixture();
    await publishFeed(h.nc, h.names, g.events);
    await fixtureReplicated(h, g);
    const as = (personId: string, role: "TEACHER" | "SCHOOL_ADMIN"): Call => ({
      caller: {
        kind: "user",
        accountId: randomUUID(),
        personId,
        grants: [{ role, scope: { kind: "school", id: g.schoolId } }],
        token: "",
      },
      metadata: {},
    });
    const teacherCall = as(g.teachers.math, "TEACHER");
    const adminCall = as(randomUUID(), "SCHOOL_ADMIN");
    const j = { ...journal, classGroupId: g.classGroupId, subjectId: g.subjects.math };
    const stream = `journal-${g.classGroupId}-${g.subjects.math}-2026`;
    /**
     * The retry looks for its command id (not recorded yet) in its facts read, then waits
     * there while the first run runs to its end, then decides on the journal that run left.
     */
    const raced = async <T>(
      run: (deps: GradesDeps) => Promise<T>,
      rerun: (deps: GradesDeps) => Promise<T> = run,
    ) => {
      let read!: () => void;
      let release!: () => void;
      const hasRead = new Promise<void>((r) => {
        read = r;
      });
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const facts: FactsReader = Object.create(h.deps.facts);
      facts.commandFacts = async (q) => {
        const out = await h.deps.facts.commandFacts(q);
        read();
        await gate;
        return out;
      };
      const retry = rerun({ ...h.deps, facts });
      retry.catch(() => {});
      await hasRead;
      const before = await h.store.streamVersion(stream);
      const first = await run(h.deps);
      release();
      const again = await retry.catch((err: unknown) => (err as Error).message);
      // One run's events, the retry's none.
      expect(await h.store.streamVersion(stream)).toBe(before + 1);
      return { first, again };
    };
    const expectReplay = ({ first, again }: { first: object; again: unknown }) =>
      expect(again).toEqual({ ...first, replayed: true });

    // A second term mark without a reason would be term_mark_exists.
    const termMark = {
      commandId: randomUUID(),
      journal: j,
      studentId: g.pupils.p1,
      term: 1,
      value: "MARK_VALUE_FOUR",
      reason: "",
    };
    expectReplay(await raced((deps) => setTermMark(deps, teacherCall, termMark)));
    // A second excusal would be absence_already_excused.
    await recordAttendance(h.deps, teacherCall, {
      commandId: randomUUID(),
      journal: j,
      lessonId: g.lessons.past,
      absences: [{ studentId: g.pupils.p2, reason: "ABSENCE_REASON_UNEXCUSED", lateMinutes: 0 }],
    });
    const excusal = {
      commandId: randomUUID(),
      journal: j,
      lessonId: g.lessons.past,
      studentId: g.pupils.p2,
      note: "справка",
    };
    expectReplay(await raced((deps) => excuseAbsence(deps, teacherCall, excusal)));
    // Revoking a revoked mark would be mark_revoked.
    const [markId] = (
      await recordMarks(h.deps, teacherCall, {
        commandId: randomUUID(),
        journal: j,
        lessonId: g.lessons.past,
        marks: [{ studentId: g.pupils.p1, value: "MARK_VALUE_TWO", workType: "ORAL", comment: "" }],
      })
    ).markIds;
    const revocation = { commandId: randomUUID(), journal: j, markId: markId!, reason: "ошибка" };
    expectReplay(
      await raced((deps) => correctOrRevokeMark(deps, teacherCall, revocation, "RevokeMark")),
    );
    // The same period again would be already_exempt.
    const exemption = {
      commandId: randomUUID(),
      journal: j,
      studentId: g.pupils.p1,
      firstDay: "2026-09-14",
      lastDay: "2026-09-30",
      reason: "медицинская группа",
    };
    expectReplay(await raced((deps) => grantExemption(deps, teacherCall, exemption)));
    // Closing a closed term would be term_closed.
    const closing = { commandId: randomUUID(), journal: j, term: 1, reason: "итоги" };
    expectReplay(await raced((deps) => closeOrReopenTerm(deps, adminCall, closing, "CloseTerm")));
    // A retry's id with another payload (another reason) is a reused command id, as it is
    // once the first run is recorded, not term_not_closed.
    const reopening = { ...closing, commandId: randomUUID(), reason: "проверка" };
    const { again } = await raced(
      (deps) => closeOrReopenTerm(deps, adminCall, reopening, "ReopenTerm"),
      (deps) => closeOrReopenTerm(deps, adminCall, { ...reopening, reason: "x" }, "ReopenTerm"),
    );
    expect(again).toBe("command_id: was already used for a different command");
  });

  it("keeps grading while identity and curriculum are gone (their streams deleted)", async () => {
    await h.replica.stop();
    const jsm = await jetstreamManager(h.nc);
    await jsm.streams.delete(h.names.contextStream("identity").name);
    await jsm.streams.delete(h.names.contextStream("curriculum").name);
    const r = await recordMark({ mark: mark(f.pupils.p1, MarkValue.MARK_VALUE_THREE) });
    expect(r.replayed).toBe(false);
    await h.client.recordAttendance(
      { commandId: randomUUID(), journal, lessonId: f.lessons.past, absences: [] },
      teacher,
    );
  });
});
