import { ConfigError } from "@otmetka/service-kit/config";
import { expect, it } from "vitest";
import { DEFAULT_DATABASE_URL, loadReportingConfig } from "./config.js";

it("has local defaults: port 50054, database otmetka_reporting, per-pupil quality, k = 1", () => {
  const c = loadReportingConfig({});
  expect([
    c.GRPC_PORT,
    c.DATABASE_URL,
    c.REPORTING_REGION_ID,
    c.REPORTING_QUALITY_VARIANT,
    c.REPORTING_TIMELINESS_DAYS,
  ]).toEqual([50054, DEFAULT_DATABASE_URL, "74", "PER_PUPIL", 1]);
});

it("names a bad variable", () => {
  expect(() => loadReportingConfig({ REPORTING_TIMELINESS_DAYS: "61" })).toThrow(ConfigError);
  expect(() => loadReportingConfig({ REPORTING_TIMELINESS_DAYS: "x" })).toThrow(
    /REPORTING_TIMELINESS_DAYS/,
  );
  expect(() => loadReportingConfig({ REPORTING_QUALITY_VARIANT: "BOTH" })).toThrow(
    /REPORTING_QUALITY_VARIANT/,
  );
});

it("bounds a rebuild's memory at 1024 MiB unless told otherwise, 0 included", () => {
  expect(loadReportingConfig({}).REPORTING_REBUILD_MEMORY_MB).toBe(1024);
  expect(
    loadReportingConfig({ REPORTING_REBUILD_MEMORY_MB: "0" }).REPORTING_REBUILD_MEMORY_MB,
  ).toBe(0);
  expect(() => loadReportingConfig({ REPORTING_REBUILD_MEMORY_MB: "-1" })).toThrow(
    /REPORTING_REBUILD_MEMORY_MB/,
  );
  expect(() => loadReportingConfig({ REPORTING_REBUILD_MEMORY_MB: "1.5" })).toThrow(
    /REPORTING_REBUILD_MEMORY_MB/,
  );
});

it("reads definition sets as JSON and names a bad one", () => {
  expect(loadReportingConfig({}).REPORTING_DEFINITION_SETS).toEqual([]);
  expect(
    loadReportingConfig({
      REPORTING_DEFINITION_SETS: '[{"version":2,"weights":{"CONTROL":3}}]',
    }).REPORTING_DEFINITION_SETS,
  ).toEqual([{ version: 2, weights: { CONTROL: 3 }, note: "" }]);
  expect(() => loadReportingConfig({ REPORTING_DEFINITION_SETS: '[{"version":1}]' })).toThrow(
    /REPORTING_DEFINITION_SETS/,
  );
  expect(() => loadReportingConfig({ REPORTING_DEFINITION_SETS: "{" })).toThrow(
    /REPORTING_DEFINITION_SETS/,
  );
});
