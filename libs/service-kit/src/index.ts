export * from "./academic-year.js";
export * from "./auth/index.js";
export {
  addDays,
  type CivilDate,
  civilDate,
  civilDateIn,
  eachDay,
  isCivilDate,
  isoWeekday,
  isTimeZone,
} from "./civil-date.js";
export { type Clock, fixedClock, type ManualClock, manualClock, systemClock } from "./clock.js";
export * from "./config-entry.js";
export { hasControlCharacter } from "./control-characters.js";
export { DomainError, type DomainErrorKind, isDomainError, quoteInput } from "./domain-error.js";
export { type CallMetadata, callMetadata } from "./grpc-call-metadata.js";
export {
  CLIENT_CHANNEL_DEFAULTS,
  checkHealth,
  type PromiseClient,
  promiseClient,
} from "./grpc-client.js";
export {
  GRPC_STATUS_OF_KIND,
  type GrpcStatusError,
  toGrpcError,
  unaryHandler,
} from "./grpc-errors.js";
export { findProtoRoot, listProtoFiles, loadProtoDescriptors } from "./grpc-reflection.js";
export {
  type GrpcServer,
  type GrpcServiceRegistration,
  SERVER_CHANNEL_DEFAULTS,
  type StartGrpcServerOptions,
  serviceNameOf,
  startGrpcServer,
} from "./grpc-server.js";
export { type H2ClientOptions, type H2PromiseClient, h2PromiseClient } from "./h2-unary-client.js";
export { type Closer, createLifecycle, type Lifecycle } from "./lifecycle.js";
export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { type ConnectNatsOptions, connectNats } from "./nats-connection.js";
export { type NatsNames, natsNames } from "./nats-names.js";
export {
  extractTraceContext,
  injectTraceHeaders,
  natsHeaderGetter,
  natsHeaderSetter,
} from "./nats-trace-carrier.js";
export { type RequestStringRules, requestStringsChecker } from "./request-strings.js";
export { type RunServiceOptions, runService } from "./run-service.js";
export { type ServeGrpcOptions, serveGrpc } from "./serve-grpc.js";
export {
  startTelemetry,
  type Telemetry,
  type TelemetryExporter,
  type TelemetryOptions,
} from "./telemetry.js";
export { isTransientInfrastructureError } from "./transient-errors.js";
