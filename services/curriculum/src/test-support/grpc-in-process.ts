import { CurriculumServiceService } from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  startGrpcServer,
} from "@otmetka/service-kit";
import { startTestGrpcApi, TEST_GRPC_SERVER_OPTIONS, type TestTokenIssuer } from "@otmetka/testing";
import { createCurriculumService } from "../api/curriculum-service.js";
import { curriculumClient } from "./grpc-client.js";
import type { InProcess } from "./in-process.js";

export const TEST_REGION = "74";

/**
 * The gRPC API over the in-process command side (its manual clock), verifying callers
 * against a test token issuer: role checks tested with real tokens and no identity process.
 */
export async function startGrpcInProcess(app: InProcess): Promise<{
  issuer: TestTokenIssuer;
  server: GrpcServer;
  client: (token?: string) => ReturnType<typeof curriculumClient>;
  close(): Promise<void>;
}> {
  const logger = createLogger({ service: "curriculum-test", level: "silent" });
  const api = await startTestGrpcApi((issuer) =>
    startGrpcServer({
      ...TEST_GRPC_SERVER_OPTIONS,
      drainTimeoutMs: 1000,
      logger,
      services: [
        {
          definition: CurriculumServiceService,
          implementation: createCurriculumService(
            app.deps,
            {
              verifier: createCallerVerifier({ jwksUrl: issuer.jwksUrl, refetchCooldownMs: 0 }),
              regionId: TEST_REGION,
            },
            logger,
          ),
        },
      ],
    }),
  );
  const clients: ReturnType<typeof curriculumClient>[] = [];
  return {
    issuer: api.issuer,
    server: api.server,
    client(token) {
      const c = curriculumClient(api.address, token);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await api.close();
    },
  };
}
