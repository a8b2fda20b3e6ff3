import { afterAll, beforeAll, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(() => h?.close());

it("heads a dashboard over all subjects with reporting's all-subjects pupils and pass rate, one subject with its own", async () => {
  // Over all subjects, performance sums the subjects' results (the stand-in's 30 pupil-subject
  // results and their pass rate); the pupils and their pass rate are allSubjects' (28, 0.8).
  const period = `period: { year: true, academicYear: ${F.year} }`;
  const a = await h.query(
    await h.token([`MINISTRY_OFFICER@region:${F.region}`]),
    `{ all: dashboard(scope: { regionId: "${F.region}" }, ${period}) { pupilCount { value } passRate { value } qualityRate { value } }
       one: dashboard(scope: { regionId: "${F.region}" }, ${period}, subjectId: "math") { pupilCount { value } passRate { value } } }`,
  );
  expect(a.body.errors).toBeUndefined();
  expect(a.body.data).toEqual({
    all: { pupilCount: { value: 28 }, passRate: { value: 0.8 }, qualityRate: { value: 0.5 } },
    one: { pupilCount: { value: 30 }, passRate: { value: 0.9 } },
  });
});
