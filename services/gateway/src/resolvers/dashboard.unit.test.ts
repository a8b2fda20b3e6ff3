import { AsOfMode } from "@otmetka/proto/reporting/v1/reporting_service";
import { expect, it } from "vitest";
import type { GatewayContext } from "../context.js";
import { periodQuery } from "./dashboard.js";

const ctx = { today: "2026-11-28" } as GatewayContext;

it("forwards asOfMode to reporting (absent: the current state)", () => {
  const q = (asOfMode?: "RECORDED" | "EFFECTIVE") =>
    periodQuery(ctx, { year: true, asOf: "2026-10-01", asOfMode: asOfMode ?? null }, null).asOfMode;
  expect(q("EFFECTIVE")).toBe(AsOfMode.AS_OF_MODE_EFFECTIVE);
  expect(q("RECORDED")).toBe(AsOfMode.AS_OF_MODE_RECORDED);
  expect(q()).toBe(AsOfMode.AS_OF_MODE_UNSPECIFIED);
});
