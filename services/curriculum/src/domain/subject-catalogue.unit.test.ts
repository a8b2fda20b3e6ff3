import { DomainError } from "@otmetka/service-kit";
import { expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import { type AddSubject, catalogueDecider } from "./subject-catalogue.js";

const school = "0190f0a0-0000-7000-8000-000000000001";
const regional = (code: string, name: string, grading = "GRADING_FIVE_POINT"): AddSubject => ({
  schoolId: "",
  municipalityId: "",
  code,
  name,
  grading,
});

function refusal(commands: AddSubject[]): DomainError {
  try {
    run(catalogueDecider, commands);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("accepted");
}

it("adds regional subjects graded on five points or pass/fail", () => {
  const { events } = run(catalogueDecider, [
    regional("MATH", "Математика"),
    regional("PE", "Физкультура", "GRADING_PASS_FAIL"),
  ]);
  expect(events.map((e) => e.data)).toEqual([
    {
      subjectId: "MATH",
      code: "MATH",
      name: "Математика",
      grading: "GRADING_FIVE_POINT",
      schoolId: "",
      municipalityId: "",
    },
    {
      subjectId: "PE",
      code: "PE",
      name: "Физкультура",
      grading: "GRADING_PASS_FAIL",
      schoolId: "",
      municipalityId: "",
    },
  ]);
});

it("refuses bad codes, names, gradings and repeats, naming the field", () => {
  expect(refusal([regional("math", "Математика")]).field).toBe("code");
  expect(refusal([regional("MATH", "  ")]).field).toBe("name");
  expect(refusal([regional("MATH", "Математика", "GRADING_UNSPECIFIED")]).field).toBe("grading");
  expect(refusal([regional("MATH", "Математика"), regional("MATH", "Алгебра")]).message).toBe(
    "code: MATH is already in this catalogue",
  );
  expect(refusal([regional("MATH", "Математика"), regional("MAT", "математика")]).field).toBe(
    "name",
  );
});

it("scopes a school's additions and keeps regional codes for the region", () => {
  const regionalState = run(catalogueDecider, [regional("MATH", "Математика")]).state;
  const own: AddSubject = {
    schoolId: school,
    municipalityId: school,
    code: "ROBOT",
    name: "Робототехника",
    grading: "GRADING_PASS_FAIL",
    regional: regionalState,
  };
  const { events } = run(catalogueDecider, [own]);
  expect(events[0]?.data).toMatchObject({ subjectId: `${school}/ROBOT`, schoolId: school });
  expect(refusal([{ ...own, code: "MATH" }]).message).toBe(
    "code: MATH is a regional subject; a school adds only its own codes",
  );
});
