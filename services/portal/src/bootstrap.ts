import { loadConfigOrExit } from "@otmetka/service-kit/config";
import { startTelemetry } from "@otmetka/service-kit/telemetry";
import { portalConfigSchema } from "./config.js";

/*
 * Evaluated before every other module of main.ts (its first import): a bad variable stops
 * start-up here; then OpenTelemetry starts before anything loads @grpc/grpc-js or pg.
 */
export const config = loadConfigOrExit(portalConfigSchema);
export const telemetry = startTelemetry({
  serviceName: "portal",
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
});
