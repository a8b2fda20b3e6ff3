import * as grpc from "@grpc/grpc-js";
import { rejectionOf } from "./process.js";
import { startTestTokenIssuer, type TestTokenIssuer } from "./token-issuer.js";

/**
 * Server options of a gRPC server in the test process (service-kit's `startGrpcServer`):
 * loopback, a free port, no health grace and a short drain, so a test file stops quickly.
 */
export const TEST_GRPC_SERVER_OPTIONS = {
  host: "127.0.0.1",
  port: 0,
  graceMs: 0,
  drainTimeoutMs: 100,
} as const;

/** What a test needs of a started gRPC server; service-kit's `GrpcServer` is one. */
export interface TestGrpcServer {
  readonly port: number;
  shutdown(): Promise<void>;
}

/** A generated grpc-js client constructor, such as ts-proto's `GradesServiceClient`. */
export type GrpcClientConstructor<C extends grpc.Client> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => C;

export interface TestGrpcApi<S extends TestGrpcServer> {
  issuer: TestTokenIssuer;
  server: S;
  /** `127.0.0.1:<port>` of the server. */
  address: string;
  /** A client of the server (insecure channel), closed by `close()`. */
  connect<C extends grpc.Client>(client: GrpcClientConstructor<C>): C;
  /** Metadata of a token with these roles (and person id). */
  as(roles: string[], pid?: string): Promise<grpc.Metadata>;
  /** Closes the clients, shuts the server down and stops the issuer. */
  close(): Promise<void>;
}

/**
 * A service's gRPC API in the test process, verifying callers against a test token issuer:
 * role checks with real tokens and no identity process. `serve` starts the server (with
 * `TEST_GRPC_SERVER_OPTIONS` and a caller verifier of `issuer.jwksUrl`); the service's own
 * wiring stays with the service.
 */
export async function startTestGrpcApi<S extends TestGrpcServer>(
  serve: (issuer: TestTokenIssuer) => Promise<S>,
): Promise<TestGrpcApi<S>> {
  const issuer = await startTestTokenIssuer();
  let server: S;
  try {
    server = await serve(issuer);
  } catch (err) {
    await issuer.stop();
    throw err;
  }
  const address = `127.0.0.1:${server.port}`;
  const clients: grpc.Client[] = [];
  return {
    issuer,
    server,
    address,
    connect(client) {
      const c = new client(address, grpc.credentials.createInsecure());
      clients.push(c);
      return c;
    },
    async as(roles, pid) {
      return issuer.metadataFor(await issuer.sign({ roles, ...(pid ? { pid } : {}) }));
    },
    async close() {
      for (const c of clients) c.close();
      await server.shutdown();
      await issuer.stop();
    },
  };
}

/** The status error of a gRPC call that must fail. */
export const grpcError = (call: Promise<unknown>) => rejectionOf<grpc.ServiceError>(call);
