import { z } from "zod";
import { ConfigError, type ConfigIssue } from "./config-error.js";
import {
  optionalPortVariable,
  optionalVariable,
  POSTGRES_URL_RULE,
  parseInteger,
  parseNatsUrl,
  parseOneOf,
  parsePattern,
  parsePostgresUrl,
  parseUrl,
  portVariable,
  variable,
} from "./config-variables.js";
import { DEFAULT_JWKS_URL, DEFAULT_NATS_URL } from "./default-ports.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface BaseConfigDefaults {
  /** The service's own default, from DEFAULT_PORTS. */
  grpcPort: number;
  /** Only services with an HTTP listener (the gateway) have one. */
  httpPort?: number;
}

/**
 * The variables every service reads. A service extends it with its own
 * (`baseConfigSchema({ grpcPort }).extend({ DATABASE_URL: databaseUrlVariable(...) })`).
 * DATABASE_URL is optional here because not every process owns a database.
 */
export function baseConfigSchema(defaults: BaseConfigDefaults) {
  return z.object({
    NATS_URL: variable(
      "a nats:// URL such as nats://127.0.0.1:4222, or a comma-separated list of them",
      parseNatsUrl,
      DEFAULT_NATS_URL,
    ),
    // Replicas of the streams a service creates: 3 on a 3-server JetStream cluster, else 1.
    NATS_STREAM_REPLICAS: variable("an integer 1-5 (stream replicas)", parseInteger(1, 5), "1"),
    NATS_PREFIX: optionalVariable(
      "letters, digits, '_' or '-' (a prefix for streams, subjects and durables)",
      parsePattern(/^[A-Za-z0-9_-]{1,32}$/),
    ),
    DATABASE_URL: optionalVariable(POSTGRES_URL_RULE, parsePostgresUrl),
    GRPC_HOST: variable(
      "an address to bind, such as 0.0.0.0 or 127.0.0.1",
      parsePattern(/^[A-Za-z0-9.:_-]+$/),
      "0.0.0.0",
    ),
    GRPC_PORT: portVariable(defaults.grpcPort),
    HTTP_PORT: optionalPortVariable(defaults.httpPort),
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalVariable(
      "an http:// or https:// URL of an OTLP collector",
      parseUrl(["http", "https"]),
    ),
    // Identity's key set, which verifies every caller's token (libs/service-kit/src/auth).
    AUTH_JWKS_URL: variable(
      "an http:// or https:// URL of identity's JWKS",
      parseUrl(["http", "https"]),
      DEFAULT_JWKS_URL,
    ),
    LOG_LEVEL: variable(`one of ${LOG_LEVELS.join(", ")}`, parseOneOf(LOG_LEVELS), "info"),
    // How long health reports NOT_SERVING while still serving, so load balancers stop routing.
    SHUTDOWN_GRACE_MS: variable("an integer 0-600000 (ms)", parseInteger(0, 600_000), "5000"),
    // How long in-flight calls may drain before the server is shut down by force.
    SHUTDOWN_TIMEOUT_MS: variable("an integer 0-600000 (ms)", parseInteger(0, 600_000), "10000"),
  });
}

export type BaseConfig = z.output<ReturnType<typeof baseConfigSchema>>;

/**
 * Validates the environment against `schema`. Empty variables count as unset (a common result
 * of `FOO= cmd` or compose files). Throws one ConfigError naming every bad variable.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? "(environment)"),
    rule: issue.message,
  }));
  throw new ConfigError(issues);
}

/**
 * `loadConfig` for the first module a service evaluates (before telemetry and the heavy
 * imports): on a ConfigError it prints the message alone to stderr and exits 1, so a bad
 * variable stops start-up at once, with no stack trace.
 */
export function loadConfigOrExit<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
