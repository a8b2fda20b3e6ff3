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
