import * as grpc from "@grpc/grpc-js";
import {
  ReportingServiceClient,
  ReportingServiceService,
} from "@otmetka/proto/reporting/v1/reporting_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  promiseClient,
  startGrpcServer,
} from "@otmetka/service-kit";
import { startTestTokenIssuer, type TestTokenIssuer } from "@otmetka/testing";
import { Access } from "../api/access.js";
import { createReportingService } from "../api/reporting-service.js";
import { DEFAULT_METRICS_CONFIG, type MetricsConfig } from "../domain/metrics/definitions.js";
import type { ReadDb } from "../queries/read-db.js";

export interface ApiHarness {
  issuer: TestTokenIssuer;
  server: GrpcServer;
  client: ReturnType<typeof promiseClient<ReportingServiceClient>>;
  /** Metadata of a token with these roles (and person id). */
  as(roles: string[], pid?: string): Promise<grpc.Metadata>;
  close(): Promise<void>;
}

/** The gRPC API over a read model, with real token verification (a test JWKS issuer), region 74. */
export async function startApi(
  db: ReadDb,
  metrics: MetricsConfig = DEFAULT_METRICS_CONFIG,
): Promise<ApiHarness> {
  const issuer = await startTestTokenIssuer();
  const logger = createLogger({ service: "reporting-test", level: "silent" });
  const server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    graceMs: 0,
    drainTimeoutMs: 100,
    logger,
    services: [
      {
        definition: ReportingServiceService,
        implementation: createReportingService(
          { db, access: new Access(db, "74"), metrics },
          createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
          logger,
        ),
      },
    ],
  });
  const raw = new ReportingServiceClient(
    `127.0.0.1:${server.port}`,
    grpc.credentials.createInsecure(),
  );
  return {
    issuer,
    server,
    client: promiseClient(raw),
    async as(roles, pid) {
      return issuer.metadataFor(await issuer.sign({ roles, ...(pid ? { pid } : {}) }));
    },
    async close() {
      raw.close();
      await server.shutdown();
      await issuer.stop();
    },
  };
}
