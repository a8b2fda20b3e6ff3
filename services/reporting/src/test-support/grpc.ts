import type * as grpc from "@grpc/grpc-js";
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
import { startTestGrpcApi, TEST_GRPC_SERVER_OPTIONS, type TestTokenIssuer } from "@otmetka/testing";
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
  const logger = createLogger({ service: "reporting-test", level: "silent" });
  const api = await startTestGrpcApi((issuer) =>
    startGrpcServer({
      ...TEST_GRPC_SERVER_OPTIONS,
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
    }),
  );
  return { ...api, client: promiseClient(api.connect(ReportingServiceClient)) };
}
