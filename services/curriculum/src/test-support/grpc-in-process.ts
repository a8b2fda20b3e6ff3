import { CurriculumServiceService } from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  startGrpcServer,
} from "@otmetka/service-kit";
import { startTestTokenIssuer, type TestTokenIssuer } from "@otmetka/testing";
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
  const issuer = await startTestTokenIssuer();
  const logger = createLogger({ service: "curriculum-test", level: "silent" });
  const server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    graceMs: 0,
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
  });
  const clients: ReturnType<typeof curriculumClient>[] = [];
  return {
    issuer,
    server,
    client(token) {
      const c = curriculumClient(`127.0.0.1:${server.port}`, token);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.shutdown();
      await issuer.stop();
    },
  };
}
