import { randomUUID } from "node:crypto";
import { rebuildProjection } from "@otmetka/projections";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timetableStreamId } from "../domain/timetable.js";
import { identityFactsProjection } from "../projections/identity-facts.js";
import {
  identityEvent,
  publishIdentityEvents,
  schoolFixture,
} from "../test-support/identity-feed.js";
import { eventually, type InProcess, startInProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import { addFivePointSubjects } from "../test-support/school-year.js";
import { runCalendarCommand } from "./calendar.js";
import {
  type AddSlotInput,
  addTimetableSlot,
  assignTeacher,
  endTimetableSlot,
  loadTimetable,
} from "./timetable.js";

const env = useTestEnvironment({ label: "curriculum_timetable" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };

const slot = (over: Partial<AddSlotInput>): AddSlotInput => ({
  ...scope,
  weekday: 1,
  period: 1,
  classGroupId: f.classGroups.a5,
  subgroupId: "",
  subjectId: "MATH",
  teacherId: f.teachers.math,
  room: "",
  validFrom: "",
  validTo: "",
  ...over,
});

beforeAll(async () => {
  app = await startInProcess(env);
  await publishIdentityEvents(app.nc, app.names, f.events);
  await eventually(async () =>
    expect(await app.deps.facts.subgroup(f.subgroups.en2)).toBeDefined(),
  );
  await runCalendarCommand(app.deps, randomUUID(), {
    kind: "DefineAcademicYear",
    schoolId: f.schoolId,
    municipalityId: f.municipalityId,
    startYear: 2026,
    daysPerWeek: 5,
  });
  await addFivePointSubjects(app.deps, [
    ["MATH", "Математика"],
    ["RUS", "Русский язык"],
    ["ENG", "Английский язык"],
  ]);
});
afterAll(async () => {
  await app?.close();
});

describe("teaching assignments from identity's facts", () => {
  it("refuse unknown staff, subjects, class groups of another year; nothing is written", async () => {
    const base = {
      ...scope,
      teacherId: f.teachers.math,
      subjectId: "MATH",
      classGroupId: f.classGroups.a5,
      subgroupId: "",
    };
    const stranger = await refusal(
      assignTeacher(app.deps, randomUUID(), { ...base, teacherId: randomUUID() }),
    );
    expect([stranger.kind, stranger.field]).toEqual(["not_found", "teacher_id"]);
    expect(
      (await refusal(assignTeacher(app.deps, randomUUID(), { ...base, subjectId: "CHEM" }))).field,
    ).toBe("subject_id");
    expect(
      (
        await refusal(
          assignTeacher(app.deps, randomUUID(), { ...base, classGroupId: f.classGroups.old }),
        )
      ).message,
    ).toMatch(/is of 2025\/2026, not 2026\/2027/);
    const unknownSchool = await refusal(
      assignTeacher(app.deps, randomUUID(), { ...base, schoolId: randomUUID() }),
    );
    expect([unknownSchool.kind, unknownSchool.field]).toEqual(["not_found", "school_id"]);
    expect(await app.store.streamVersion(timetableStreamId(f.schoolId, 2026))).toBe(0);
  });

  it("assign teachers idempotently by command id", async () => {
    const commandId = randomUUID();
    const input = {
      ...scope,
      teacherId: f.teachers.math,
      subjectId: "MATH",
      classGroupId: f.classGroups.a5,
      subgroupId: "",
    };
    const first = await assignTeacher(app.deps, commandId, input);
    const again = await assignTeacher(app.deps, commandId, input);
    expect(again).toEqual({ result: first.result, replayed: true });
    for (const [teacherId, subjectId, classGroupId, subgroupId] of [
      [f.teachers.math, "MATH", f.classGroups.b5, ""],
      [f.teachers.rus, "RUS", f.classGroups.a5, ""],
      [f.teachers.en1, "ENG", f.classGroups.a5, f.subgroups.en1],
      [f.teachers.en2, "ENG", f.classGroups.a5, f.subgroups.en2],
    ] as const) {
      await assignTeacher(app.deps, randomUUID(), {
        ...scope,
        teacherId,
        subjectId,
        classGroupId,
        subgroupId,
      });
    }
    expect((await loadTimetable(app.deps, f.schoolId, 2026)).assignments.size).toBe(5);
  });
});

describe("timetable", () => {
  it("books slots and refuses each kind of conflict with a precise error, writing nothing", async () => {
    await addTimetableSlot(app.deps, randomUUID(), slot({ room: "12" }));
    await addTimetableSlot(
      app.deps,
      randomUUID(),
      slot({
        subgroupId: f.subgroups.en1,
        subjectId: "ENG",
        teacherId: f.teachers.en1,
        period: 2,
        room: "21",
      }),
    );
    await addTimetableSlot(
      app.deps,
      randomUUID(),
      slot({
        subgroupId: f.subgroups.en2,
        subjectId: "ENG",
        teacherId: f.teachers.en2,
        period: 2,
        room: "22",
      }),
    );
    const version = await app.store.streamVersion(timetableStreamId(f.schoolId, 2026));

    const teacher = await refusal(
      addTimetableSlot(app.deps, randomUUID(), slot({ classGroupId: f.classGroups.b5 })),
    );
    expect(teacher.message).toMatch(
      new RegExp(`^teacher_id: teacher ${f.teachers.math} is already booked on Monday period 1`),
    );
    const group = await refusal(
      addTimetableSlot(
        app.deps,
        randomUUID(),
        slot({ teacherId: f.teachers.rus, subjectId: "RUS" }),
      ),
    );
    expect(group.message).toMatch(
      /^class_group_id: class group 5А is already booked on Monday period 1/,
    );
    const room = await refusal(
      addTimetableSlot(
        app.deps,
        randomUUID(),
        slot({
          classGroupId: f.classGroups.b5,
          teacherId: f.teachers.rus,
          subjectId: "RUS",
          room: "12",
        }),
      ),
    );
    expect(room.message).toMatch(/^room: room 12 is already booked on Monday period 1/);
    const unassigned = await refusal(
      addTimetableSlot(
        app.deps,
        randomUUID(),
        slot({
          classGroupId: f.classGroups.b5,
          teacherId: f.teachers.rus,
          subjectId: "RUS",
          period: 3,
        }),
      ),
    );
    expect(unassigned.message).toBe(
      `teacher_id: teacher ${f.teachers.rus} is not assigned to teach RUS to class group 5Б`,
    );
    expect([teacher, group, room, unassigned].every((e) => e.kind === "failed_precondition")).toBe(
      true,
    );
    expect(await app.store.streamVersion(timetableStreamId(f.schoolId, 2026))).toBe(version);
  });

  it("frees a period once a slot ends", async () => {
    const { result } = await addTimetableSlot(
      app.deps,
      randomUUID(),
      slot({ weekday: 2, teacherId: f.teachers.rus, subjectId: "RUS" }),
    );
    await endTimetableSlot(app.deps, randomUUID(), {
      ...scope,
      slotId: result.slotId,
      lastDay: "2026-12-31",
    });
    await addTimetableSlot(app.deps, randomUUID(), slot({ weekday: 2, validFrom: "2027-01-01" }));
    const tuesday = [...(await loadTimetable(app.deps, f.schoolId, 2026)).slots.values()].filter(
      (s) => s.weekday === 2,
    );
    expect(tuesday.map((s) => [s.subjectId, s.validFrom, s.validTo])).toEqual([
      ["RUS", "2026-09-01", "2026-12-31"],
      ["MATH", "2027-01-01", "2027-05-31"],
    ]);
  });
});

describe("identity replica", () => {
  it("follows later identity events and is rebuilt from identity's stream to the same content", async () => {
    await publishIdentityEvents(app.nc, app.names, [
      identityEvent(`cg-${f.classGroups.b5}`, "ClassGroupClosed", {
        classGroupId: f.classGroups.b5,
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
      }),
    ]);
    await eventually(async () =>
      expect((await app.deps.facts.classGroup(f.classGroups.b5))?.closed).toBe(true),
    );
    const closed = await refusal(
      assignTeacher(app.deps, randomUUID(), {
        ...scope,
        teacherId: f.teachers.rus,
        subjectId: "RUS",
        classGroupId: f.classGroups.b5,
        subgroupId: "",
      }),
    );
    expect(closed.message).toBe(`class_group_id: class group ${f.classGroups.b5} is closed`);

    // A teacher registered at another school and assigned here; an erased one is gone.
    const visiting = randomUUID();
    const otherSchool = randomUUID();
    await publishIdentityEvents(app.nc, app.names, [
      identityEvent(`person-${visiting}`, "PersonRegistered", {
        personId: visiting,
        schoolId: otherSchool,
        municipalityId: f.municipalityId,
        kind: 2,
      }),
      identityEvent(`person-${visiting}`, "StaffAssignedToSchool", {
        personId: visiting,
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
      }),
      identityEvent(`person-${f.teachers.sub}`, "PersonErased", {
        personId: f.teachers.sub,
        schoolId: f.schoolId,
        municipalityId: f.municipalityId,
      }),
    ]);
    await eventually(async () =>
      expect(await app.deps.facts.isStaff(f.schoolId, visiting)).toBe(true),
    );
    expect(await app.deps.facts.isStaff(f.schoolId, f.teachers.sub)).toBe(false);
    const erased = await refusal(
      assignTeacher(app.deps, randomUUID(), {
        ...scope,
        teacherId: f.teachers.sub,
        subjectId: "RUS",
        classGroupId: f.classGroups.a5,
        subgroupId: "",
      }),
    );
    expect([erased.kind, erased.field]).toEqual(["not_found", "teacher_id"]);
    await assignTeacher(app.deps, randomUUID(), {
      ...scope,
      teacherId: visiting,
      subjectId: "RUS",
      classGroupId: f.classGroups.a5,
      subgroupId: "",
    });

    // A pupil enrolled in 5А and transferred to 5Б on 1 October: two periods.
    const pupil = randomUUID();
    const at = { schoolId: f.schoolId, municipalityId: f.municipalityId };
    await publishIdentityEvents(app.nc, app.names, [
      identityEvent(`person-${pupil}`, "StudentEnrolled", {
        personId: pupil,
        classGroupId: f.classGroups.a5,
        ...at,
        academicYear: { startYear: 2026 },
        gradeLevel: 5,
        effectiveDate: "2026-09-01",
      }),
      identityEvent(`person-${pupil}`, "StudentTransferred", {
        personId: pupil,
        fromClassGroupId: f.classGroups.a5,
        fromSchoolId: f.schoolId,
        fromMunicipalityId: f.municipalityId,
        toClassGroupId: f.classGroups.b5,
        ...at,
        academicYear: { startYear: 2026 },
        gradeLevel: 5,
        effectiveDate: "2026-10-01",
      }),
    ]);
    await eventually(async () =>
      expect(await app.deps.facts.enrolmentPeriods([pupil], f.classGroups.b5)).toEqual([
        { from: "2026-10-01", to: null },
      ]),
    );
    expect(await app.deps.facts.enrolmentPeriods([pupil], f.classGroups.a5)).toEqual([
      { from: "2026-09-01", to: "2026-10-01" },
    ]);

    const dump = async () => {
      const out: Record<string, unknown[]> = {};
      for (const t of ["schools", "staff", "class_groups", "subgroups", "enrollments"]) {
        out[t] = (
          await app.store.pool.query(`SELECT * FROM proj_identity_facts.${t} ORDER BY 1, 2`)
        ).rows;
      }
      return out;
    };
    const before = await dump();
    expect(before.staff?.length).toBe(7); // five here, the visitor at both schools
    await app.store.pool.query("TRUNCATE proj_identity_facts.class_groups");
    const rebuilt = await rebuildProjection({
      projection: identityFactsProjection,
      pool: app.store.pool,
      nc: app.nc,
      names: app.names,
    });
    expect(rebuilt.events).toBe(f.events.length + 6);
    expect(await dump()).toEqual(before);
  });
});
