/*
 * `@otmetka/service-kit/config`: configuration alone (zod, no gRPC, NATS or OpenTelemetry), for
 * a service's bootstrap module, which must run before anything loads @grpc/grpc-js or pg.
 */
export {
  type BaseConfig,
  type BaseConfigDefaults,
  baseConfigSchema,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
  loadConfigOrExit,
} from "./config.js";
export { ConfigError, type ConfigIssue } from "./config-error.js";
export {
  databaseUrlVariable,
  optionalPortVariable,
  optionalVariable,
  type Parse,
  parseInteger,
  parseNatsUrl,
  parseOneOf,
  parsePattern,
  parsePort,
  parsePostgresUrl,
  parseUrl,
  portVariable,
  variable,
} from "./config-variables.js";
export { DEFAULT_JWKS_URL, DEFAULT_NATS_URL, DEFAULT_PORTS } from "./default-ports.js";
