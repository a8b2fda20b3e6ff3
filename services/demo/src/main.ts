// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts and the service kit's README).
import "./bootstrap.js";
import { createRequire } from "node:module";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { DemoServiceService } from "@otmetka/proto/demo/v1/demo_service";
import {
  connectNats,
  createLogger,
  findProtoRoot,
  natsNames,
  runService,
  startGrpcServer,
  systemClock,
} from "@otmetka/service-kit";
import { createDemoService, provisionDemoStream } from "./api/demo-service.js";
import { config, telemetry } from "./bootstrap.js";

// Wiring only. Resources are registered in the order they open; shutdown closes them in
// reverse: gRPC server (NOT_SERVING, grace, drain), then NATS (drain), then telemetry (flush).
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "demo", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  const nc = await connectNats({ url: config.NATS_URL, name: "demo", logger });
  lifecycle.onShutdown("nats", () => nc.drain());
  const names = natsNames(config.NATS_PREFIX);
  await provisionDemoStream(await jetstreamManager(nc), names);

  const server = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    graceMs: config.SHUTDOWN_GRACE_MS,
    drainTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    logger,
    reflection: {
      protoRoot: findProtoRoot(createRequire(import.meta.url).resolve("@otmetka/proto/values")),
    },
    services: [
      {
        definition: DemoServiceService,
        implementation: createDemoService({ js: jetstream(nc), names, logger, clock: systemClock }),
      },
    ],
  });
  lifecycle.onShutdown("grpc server", () => server.shutdown());
});
