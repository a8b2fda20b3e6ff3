import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bulkPupilsOfS1, F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { REPORTING_MAX_BATCH } from "./loaders.js";

/*
 * One GraphQL document asking for more diaries and dashboards than reporting takes in one
 * call: the loaders split them into calls of at most REPORTING_MAX_BATCH (the fake reporting
 * refuses a larger batch whole, as reporting does) and every field gets its answer.
 */
const N = REPORTING_MAX_BATCH + 1;

describe("reporting batches over the limit", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    // Room for N aliased fields in one document; the limits are not what is tested here.
    h = await startGatewayHarness({
      limits: { depth: 10, cost: 1_000_000, aliases: 1000, tokens: 50_000, perMinute: 10_000 },
    });
  });
  afterAll(() => h?.close());

  it(`${N} diaries in one query: ${N} answers from GetDiaries calls of at most ${REPORTING_MAX_BATCH}`, async () => {
    const pupils = bulkPupilsOfS1.slice(0, N);
    const fields = pupils.map(
      (id, i) =>
        `d${i}: diary(studentId: "${id}", from: "2026-09-01", to: "2026-09-30") { student { id } }`,
    );
    h.fakes.reset();
    const a = await h.query(
      await h.token([`SCHOOL_ADMIN@school:${F.s1}`]),
      `{ ${fields.join(" ")} }`,
    );
    expect(a.body.errors).toBeUndefined();
    expect(Object.values(a.body.data ?? {})).toEqual(pupils.map((id) => ({ student: { id } })));
    expect(h.fakes.calls.get("GetDiaries")).toBe(2);
  });

  it(`${N} dashboards in one query: ${N} answers from GetDashboards calls of at most ${REPORTING_MAX_BATCH}`, async () => {
    const fields = Array.from(
      { length: N },
      (_, i) =>
        `d${i}: dashboard(scope: { regionId: "${F.region}" }, period: { year: true, academicYear: ${F.year} }, subjectId: "s${i}") { pupilCount { value } }`,
    );
    h.fakes.reset();
    const a = await h.query(
      await h.token([`MINISTRY_OFFICER@region:${F.region}`]),
      `{ ${fields.join(" ")} }`,
    );
    expect(a.body.errors).toBeUndefined();
    expect(Object.values(a.body.data ?? {})).toEqual(Array(N).fill({ pupilCount: { value: 30 } }));
    expect(h.fakes.calls.get("GetDashboards")).toBe(2);
  });
});
