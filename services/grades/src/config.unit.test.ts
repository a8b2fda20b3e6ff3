import { ConfigError } from "@otmetka/service-kit/config";
import { expect, it } from "vitest";
import { DEFAULT_DATABASE_URL, loadGradesConfig } from "./config.js";

it("has local defaults: port 50053, database otmetka_grades, identity's JWKS", () => {
  const c = loadGradesConfig({});
  expect([c.GRPC_PORT, c.DATABASE_URL, c.JOURNAL_CACHE_SIZE]).toEqual([
    50053,
    DEFAULT_DATABASE_URL,
    1000,
  ]);
  expect(c.AUTH_JWKS_URL).toBe("http://127.0.0.1:50061/.well-known/jwks.json");
});

it("names a bad variable", () => {
  expect(() => loadGradesConfig({ DATABASE_URL: "mysql://x" })).toThrow(ConfigError);
  expect(() => loadGradesConfig({ JOURNAL_CACHE_SIZE: "-1" })).toThrow(/JOURNAL_CACHE_SIZE/);
});
