// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts and the service kit's README).
import "./bootstrap.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { DemoServiceService } from "@otmetka/proto/demo/v1/demo_service";
import {
  connectNats,
  createLogger,
  natsNames,
  runService,
  serveGrpc,
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

  await serveGrpc({
    config,
    logger,
    lifecycle,
    services: [
      {
        definition: DemoServiceService,
        implementation: createDemoService({ js: jetstream(nc), names, logger, clock: systemClock }),
      },
    ],
  });
});
