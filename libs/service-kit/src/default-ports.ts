/**
 * Default ports of architecture.md, so that a local launcher, the services and their tests agree
 * without configuration. Every service can still be moved with GRPC_PORT / HTTP_PORT.
 */
export const DEFAULT_PORTS = {
  demo: 50050,
  identity: 50051,
  curriculum: 50052,
  grades: 50053,
  reporting: 50054,
  portal: 50055,
  /** The gateway speaks HTTP (GraphQL at /graphql), not gRPC. */
  gatewayHttp: 4000,
} as const;

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
