import { AsOfMode, Dashboard, type Figure } from "@otmetka/proto/reporting/v1/reporting_service";
import { expect, it } from "vitest";
import type { GatewayContext } from "../context.js";
import { headlineFigures, periodQuery } from "./dashboard.js";

const ctx = { today: "2026-11-28" } as GatewayContext;

it("forwards asOfMode to reporting (absent: the current state)", () => {
  const q = (asOfMode?: "RECORDED" | "EFFECTIVE") =>
    periodQuery(ctx, { year: true, asOf: "2026-10-01", asOfMode: asOfMode ?? null }, null).asOfMode;
  expect(q("EFFECTIVE")).toBe(AsOfMode.AS_OF_MODE_EFFECTIVE);
  expect(q("RECORDED")).toBe(AsOfMode.AS_OF_MODE_RECORDED);
  expect(q()).toBe(AsOfMode.AS_OF_MODE_UNSPECIFIED);
});

it("heads an all-subjects dashboard with its pupils and pass rate over all subjects, not the subjects' results summed", () => {
  const f = (numerator: number, denominator: number, definition: string): Figure => ({
    value: numerator / denominator,
    numerator,
    denominator,
    definition,
  });
  // 7 pupils in two subjects: 9 pupil-subject results, 8 of them passed; 5 pupils passed both.
  const perSubject = { pupilCount: f(9, 1, "pupil_count.v1"), passRate: f(8, 9, "pass_rate.v1") };
  const overAll = {
    pupilCount: f(7, 1, "all_subjects.pupil_count.v1"),
    passRate: f(5, 7, "all_subjects.pass_rate.v1"),
  };
  const allSubjects = Dashboard.fromPartial({ performance: perSubject, allSubjects: overAll });
  expect(headlineFigures(allSubjects)).toEqual(overAll);
  // One subject: reporting sends no all-subjects figures.
  const oneSubject = Dashboard.fromPartial({ performance: perSubject });
  expect(headlineFigures(oneSubject)).toEqual(perSubject);
});
