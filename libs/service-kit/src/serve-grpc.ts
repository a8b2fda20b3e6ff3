import { createRequire } from "node:module";
import type { BaseConfig } from "./config.js";
import { findProtoRoot } from "./grpc-reflection.js";
import { type GrpcServer, type GrpcServiceRegistration, startGrpcServer } from "./grpc-server.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Logger } from "./logger.js";

export interface ServeGrpcOptions {
  config: Pick<BaseConfig, "GRPC_HOST" | "GRPC_PORT" | "SHUTDOWN_GRACE_MS" | "SHUTDOWN_TIMEOUT_MS">;
  logger: Logger;
  lifecycle: Lifecycle;
  services: GrpcServiceRegistration[];
}

/**
 * A service process's gRPC server as its configuration says (host, port, shutdown timings),
 * with reflection over the buf module, stopped first on shutdown. The wiring every service's
 * main.ts would otherwise repeat.
 */
export async function serveGrpc(o: ServeGrpcOptions): Promise<GrpcServer> {
  const protoRoot = findProtoRoot(createRequire(import.meta.url).resolve("@otmetka/proto/values"));
  const server = await startGrpcServer({
    host: o.config.GRPC_HOST,
    port: o.config.GRPC_PORT,
    graceMs: o.config.SHUTDOWN_GRACE_MS,
    drainTimeoutMs: o.config.SHUTDOWN_TIMEOUT_MS,
    logger: o.logger,
    reflection: { protoRoot },
    services: o.services,
  });
  o.lifecycle.onShutdown("grpc server", () => server.shutdown());
  return server;
}
