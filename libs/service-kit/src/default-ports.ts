/**
 * Default ports of architecture.md, so that a local launcher, the services and their tests agree
 * without configuration. Every service can still be moved with GRPC_PORT / HTTP_PORT.
 */
export const DEFAULT_PORTS = {
  demo: 50050,
  identity: 50051,
  /** Identity's HTTP side: the JWKS at /.well-known/jwks.json. */
  identityHttp: 50061,
  curriculum: 50052,
  grades: 50053,
  reporting: 50054,
  portal: 50055,
  /** The gateway speaks HTTP (GraphQL at /graphql), not gRPC. */
  gatewayHttp: 4000,
} as const;

/** Where services fetch the keys that verify callers' tokens. */
export const DEFAULT_JWKS_URL = `http://127.0.0.1:${DEFAULT_PORTS.identityHttp}/.well-known/jwks.json`;

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
