import { describe, expect, it } from "vitest";
import { z } from "zod";
import { baseConfigSchema, loadConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { databaseUrlVariable } from "./config-variables.js";
import { DEFAULT_PORTS } from "./default-ports.js";

const schema = baseConfigSchema({ grpcPort: DEFAULT_PORTS.grades });

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig with the base schema", () => {
  it("applies the defaults to an empty environment", () => {
    expect(loadConfig(schema, {})).toEqual({
      NATS_URL: "nats://127.0.0.1:4222",
      NATS_STREAM_REPLICAS: 1,
      NATS_PREFIX: undefined,
      DATABASE_URL: undefined,
      GRPC_HOST: "0.0.0.0",
      GRPC_PORT: 50053,
      HTTP_PORT: undefined,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      AUTH_JWKS_URL: "http://127.0.0.1:50061/.well-known/jwks.json",
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10000,
    });
  });

  it("parses given values and treats empty ones as unset", () => {
    const config = loadConfig(
      baseConfigSchema({ grpcPort: 1, httpPort: DEFAULT_PORTS.gatewayHttp }),
      {
        NATS_URL: "nats://a:4222, nats://b:4222",
        NATS_PREFIX: "t_run-1",
        NATS_STREAM_REPLICAS: "3",
        DATABASE_URL: "postgres://u:p@db:5432/otmetka_grades",
        GRPC_PORT: "65535",
        HTTP_PORT: "",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        LOG_LEVEL: "debug",
        SHUTDOWN_GRACE_MS: "0",
      },
    );
    expect(config).toMatchObject({
      NATS_URL: "nats://a:4222,nats://b:4222",
      NATS_PREFIX: "t_run-1",
      NATS_STREAM_REPLICAS: 3,
      DATABASE_URL: "postgres://u:p@db:5432/otmetka_grades",
      GRPC_PORT: 65535,
      HTTP_PORT: 4000,
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      LOG_LEVEL: "debug",
      SHUTDOWN_GRACE_MS: 0,
    });
  });

  it("names every bad variable at once, with its rule", () => {
    const err = configErrorOf(() =>
      loadConfig(schema, {
        NATS_URL: "not-a-url",
        NATS_PREFIX: "bad.prefix",
        DATABASE_URL: "mysql://x/y",
        GRPC_PORT: "70000",
        HTTP_PORT: "abc",
        OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
        LOG_LEVEL: "loud",
        SHUTDOWN_GRACE_MS: "-1",
      }),
    );
    expect(err.variables).toEqual([
      "NATS_URL",
      "NATS_PREFIX",
      "DATABASE_URL",
      "GRPC_PORT",
      "HTTP_PORT",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "LOG_LEVEL",
      "SHUTDOWN_GRACE_MS",
    ]);
    expect(err.message).toContain("NATS_URL: must be a nats:// URL");
    expect(err.message).toContain('(got "not-a-url")');
    expect(err.message).toContain('GRPC_PORT: must be an integer port 1-65535 (got "70000")');
    expect(err.message).toContain('HTTP_PORT: must be an integer port 1-65535 (got "abc")');
    expect(err.message).toMatch(/^Invalid configuration \(8 variables\):/);
  });

  it.each(["0", "6", "two", "1.5"])("rejects NATS_STREAM_REPLICAS=%s", (value) => {
    const err = configErrorOf(() => loadConfig(schema, { NATS_STREAM_REPLICAS: value }));
    expect(err.variables).toEqual(["NATS_STREAM_REPLICAS"]);
    expect(err.message).toContain("NATS_STREAM_REPLICAS: must be an integer 1-5");
  });

  it.each(["0", "abc", "80.5", "1e3", "-5"])("rejects GRPC_PORT=%s", (value) => {
    expect(configErrorOf(() => loadConfig(schema, { GRPC_PORT: value })).variables).toEqual([
      "GRPC_PORT",
    ]);
  });

  it("rejects a NATS cluster list with one bad entry", () => {
    const err = configErrorOf(() =>
      loadConfig(schema, { NATS_URL: "nats://a:4222,http://b:4222" }),
    );
    expect(err.variables).toEqual(["NATS_URL"]);
  });

  it("masks credentials of a bad URL in the message", () => {
    const err = configErrorOf(() =>
      loadConfig(schema, { DATABASE_URL: "mysql://admin:s3cret@db/x" }),
    );
    expect(err.message).not.toContain("s3cret");
    expect(err.message).toContain("mysql://***@db/x");
  });

  it("lets a service extend the base with required variables of its own", () => {
    const service = schema.extend({
      DATABASE_URL: databaseUrlVariable(),
      JWKS_URL: z.string(),
    });
    const err = configErrorOf(() => loadConfig(service, { GRPC_PORT: "abc" }));
    expect(err.variables).toEqual(["DATABASE_URL", "GRPC_PORT", "JWKS_URL"]);
    expect(err.message).toContain("DATABASE_URL: is required");
    const ok = loadConfig(service, {
      DATABASE_URL: "postgresql://127.0.0.1/otmetka_grades",
      JWKS_URL: "http://identity/jwks",
    });
    expect(ok.DATABASE_URL).toBe("postgresql://127.0.0.1/otmetka_grades");
    expect(ok.JWKS_URL).toBe("http://identity/jwks");
  });
});

describe("DEFAULT_PORTS", () => {
  it("are those of architecture.md", () => {
    expect(DEFAULT_PORTS).toMatchObject({
      identity: 50051,
      curriculum: 50052,
      grades: 50053,
      reporting: 50054,
      portal: 50055,
      gatewayHttp: 4000,
    });
  });
});
