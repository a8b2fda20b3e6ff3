import { afterEach, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";

/*
 * "Today" is the region's civil date (GATEWAY_TIME_ZONE, Asia/Yekaterinburg by default,
 * UTC+5), not UTC's: at 01:00 on 1 September in Chelyabinsk it is still 31 August in UTC,
 * and a dashboard without a year asked for the year that had just ended.
 */
let h: GatewayHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const yearAsked = async (now: string, timeZone?: string) => {
  h = await startGatewayHarness({ now: () => new Date(now), ...(timeZone ? { timeZone } : {}) });
  const token = await h.token([`MINISTRY_OFFICER@region:${F.region}`], "ministry-person");
  const a = await h.query(
    token,
    `{ dashboard(scope: { regionId: "${F.region}" }, period: { year: true }) { pupilCount { value } } }`,
  );
  expect(a.body.errors).toBeUndefined();
  const r = h.fakes.requests.get("GetDashboards") as {
    queries: { academicYear?: { startYear: number } }[];
  };
  return r.queries[0]?.academicYear?.startYear;
};

it("takes the academic year from the region's date, not UTC's", async () => {
  // 2026-08-31T20:00Z is 2026-09-01 01:00 in Yekaterinburg: the new year has begun there.
  expect(await yearAsked("2026-08-31T20:00:00Z")).toBe(2026);
});

it("follows GATEWAY_TIME_ZONE", async () => {
  // The same instant is still 31 August in Moscow (23:00).
  expect(await yearAsked("2026-08-31T20:00:00Z", "Europe/Moscow")).toBe(2025);
});
