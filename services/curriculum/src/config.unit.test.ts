import { ConfigError } from "@otmetka/service-kit/config";
import { expect, it } from "vitest";
import { DEFAULT_DATABASE_URL, loadCurriculumConfig } from "./config.js";

it("has local defaults: port 50052, database otmetka_curriculum", () => {
  const c = loadCurriculumConfig({});
  expect([c.GRPC_PORT, c.DATABASE_URL]).toEqual([50052, DEFAULT_DATABASE_URL]);
});

it("names a bad variable", () => {
  expect(() => loadCurriculumConfig({ DATABASE_URL: "mysql://x" })).toThrow(ConfigError);
  expect(() => loadCurriculumConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
});

it("takes the region of ministry grants from CURRICULUM_REGION_ID (default 74)", () => {
  expect(loadCurriculumConfig({}).CURRICULUM_REGION_ID).toBe("74");
  expect(() => loadCurriculumConfig({ CURRICULUM_REGION_ID: "a b" })).toThrow(
    /CURRICULUM_REGION_ID/,
  );
});
