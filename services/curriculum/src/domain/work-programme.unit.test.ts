import { DomainError } from "@otmetka/service-kit";
import { expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import type { Lesson } from "./lessons.js";
import {
  currentVersion,
  delivery,
  type ProgrammeCommand,
  programmeDecider,
  subgroupsTaught,
} from "./work-programme.js";

const scope = { schoolId: "s1", municipalityId: "m1", academicYear: { startYear: 2026 } };
const draft = (
  items: { topic: string; hours: number }[],
  over: Partial<ProgrammeCommand> = {},
): ProgrammeCommand =>
  ({
    kind: "DraftWorkProgramme",
    scope,
    subjectId: "MATH",
    subjectKnown: true,
    gradeLevel: 5,
    items,
    authorId: "t1",
    authorIsStaff: true,
    ...over,
  }) as ProgrammeCommand;
const approve = (version: number, approvedBy = "admin"): ProgrammeCommand => ({
  kind: "ApproveWorkProgramme",
  version,
  approvedBy,
  approverIsStaff: true,
});
const v1 = [
  { topic: "Натуральные числа", hours: 2 },
  { topic: "Дроби", hours: 3 },
];

function refusal(commands: ProgrammeCommand[]): DomainError {
  try {
    run(programmeDecider, commands);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("accepted");
}

it("drafts numbered versions with stable item ids; approval makes one current; old versions stay", () => {
  const v2 = [...v1, { topic: "Проценты", hours: 1 }];
  const { state } = run(programmeDecider, [draft(v1), approve(1), draft(v2)]);
  expect(currentVersion(state)?.version).toBe(1);
  const approved = run(programmeDecider, [draft(v1), approve(1), draft(v2), approve(2)]).state;
  expect(currentVersion(approved)?.items.map((i) => i.itemId)).toEqual(["v2.1", "v2.2", "v2.3"]);
  expect(approved.versions.map((v) => [v.version, v.items.length, v.approvedBy])).toEqual([
    [1, 2, "admin"],
    [2, 3, "admin"],
  ]);
});

it("refuses bad drafts and approvals naming the field", () => {
  expect(refusal([draft([])]).field).toBe("items");
  expect(refusal([draft([{ topic: " ", hours: 1 }])]).field).toBe("items[0].topic");
  expect(refusal([draft([{ topic: "x", hours: 0.5 }])]).field).toBe("items[0].hours");
  expect(refusal([draft(v1, { gradeLevel: 12 })]).field).toBe("grade_level");
  expect(refusal([draft(v1, { subjectKnown: false })]).kind).toBe("not_found");
  expect(refusal([draft(v1), draft(v1)]).message).toBe(
    "items: version 1 is awaiting approval; approve it before revising",
  );
  expect(refusal([draft(v1), approve(2)]).kind).toBe("not_found");
  expect(refusal([draft(v1), approve(1), approve(1)]).message).toBe(
    "version: version 1 is already approved",
  );
  expect(refusal([draft(v1), approve(1, "t1")]).field).toBe("approved_by");
});

it("delivery: planned hours follow the subject's lessons up to the date; conducted counts by item", () => {
  const version = currentVersion(run(programmeDecider, [draft(v1), approve(1)]).state);
  if (!version) throw new Error("no version");
  const lesson = (date: string, status: Lesson["status"], itemId = "", subjectId = "MATH") =>
    ({ date, status, subjectId, subgroupId: "", workProgrammeItemId: itemId }) as Lesson;
  const lessons = [
    lesson("2026-09-01", "conducted", "v1.1"),
    lesson("2026-09-03", "conducted", "v1.1"),
    lesson("2026-09-05", "cancelled"),
    lesson("2026-09-08", "conducted"),
    lesson("2026-09-10", "scheduled"),
    lesson("2026-09-02", "conducted", "v1.2", "RUS"),
  ];
  const d = delivery(version, lessons, "2026-09-09");
  expect(d).toMatchObject({ version: 1, plannedToDate: 3, conductedWithItem: 2, totalHours: 5 });
  expect(d.items.map((i) => i.conducted)).toEqual([2, 0]);
});

it("delivery per subgroup: each subgroup's own lessons plus the whole class's", () => {
  const version = currentVersion(run(programmeDecider, [draft(v1), approve(1)]).state);
  if (!version) throw new Error("no version");
  const lesson = (date: string, subgroupId: string, itemId = "") =>
    ({
      date,
      status: itemId ? "conducted" : "scheduled",
      subjectId: "MATH",
      subgroupId,
      workProgrammeItemId: itemId,
    }) as Lesson;
  const lessons = [
    lesson("2026-09-01", "", "v1.1"),
    lesson("2026-09-02", "g1", "v1.2"),
    lesson("2026-09-02", "g2", "v1.2"),
    lesson("2026-09-03", "g1", "v1.2"),
    lesson("2026-09-04", "g2"),
  ];
  expect(subgroupsTaught(lessons, "MATH")).toEqual(["g1", "g2"]);
  expect(delivery(version, lessons, "2026-09-30")).toMatchObject({
    plannedToDate: 1,
    conductedWithItem: 1,
  });
  const g1 = delivery(version, lessons, "2026-09-30", "g1");
  expect([g1.plannedToDate, g1.conductedWithItem, g1.items.map((i) => i.conducted)]).toEqual([
    3,
    3,
    [1, 2],
  ]);
  const g2 = delivery(version, lessons, "2026-09-30", "g2");
  expect([g2.plannedToDate, g2.conductedWithItem]).toEqual([3, 2]);
});
