import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { type PromiseClient, promiseClient } from "@otmetka/service-kit";

export { checkHealth } from "@otmetka/service-kit";

type Calls = PromiseClient<CurriculumServiceClient>;

/**
 * The generated client with every unary method as a promise. `call` sends `token` (tests
 * pass an admin's) on every call; `as(other)` calls with another token, `as(undefined)`
 * with none.
 */
export function curriculumClient(address: string, token?: string) {
  const client = new CurriculumServiceClient(address, grpc.credentials.createInsecure());
  const raw = promiseClient(client);
  const as = (t: string | undefined): Calls =>
    new Proxy({} as Calls, {
      get(_, name: string) {
        // Not a thenable: `await` of a client must not look like a call.
        if (name === "then") return undefined;
        const method = (
          raw as unknown as Record<string, (r: unknown, m: grpc.Metadata) => unknown>
        )[name] as (r: unknown, m: grpc.Metadata) => unknown;
        return (req: unknown) => {
          const md = new grpc.Metadata();
          if (t !== undefined) md.set("authorization", `Bearer ${t}`);
          return method(req, md);
        };
      },
    });
  return { call: as(token), as, close: () => client.close() };
}

export { grpcError } from "@otmetka/testing";
