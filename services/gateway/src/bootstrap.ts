import { loadConfigOrExit } from "@otmetka/service-kit/config";
import { startTelemetry } from "@otmetka/service-kit/telemetry";
import { gatewayConfigSchema } from "./config.js";

/*
 * Evaluated before every other module of main.ts (its first import): a bad variable stops
 * start-up here; then OpenTelemetry starts before anything loads @grpc/grpc-js, so the
 * caller's trace context rides on every downstream gRPC call.
 */
export const config = loadConfigOrExit(gatewayConfigSchema);
export const telemetry = startTelemetry({
  serviceName: "gateway",
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
});
