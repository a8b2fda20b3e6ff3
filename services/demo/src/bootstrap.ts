import { loadConfigOrExit } from "@otmetka/service-kit/config";
import { startTelemetry } from "@otmetka/service-kit/telemetry";
import { demoConfigSchema } from "./config.js";

/*
 * Evaluated before every other module of main.ts (its first import): a bad variable stops
 * start-up here, before the heavy modules run; then OpenTelemetry starts before anything
 * loads @grpc/grpc-js or pg, which instrumentation could otherwise not patch. Only the
 * config and telemetry entries of the kit may be imported here.
 */
export const config = loadConfigOrExit(demoConfigSchema);
export const telemetry = startTelemetry({
  serviceName: "demo",
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
});
