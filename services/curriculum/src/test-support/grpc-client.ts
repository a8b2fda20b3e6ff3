import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { service as healthService } from "grpc-health-check";

type Promised = {
  [K in keyof CurriculumServiceClient]: CurriculumServiceClient[K] extends (
    req: infer Req,
    md: grpc.Metadata,
    opts: Partial<grpc.CallOptions>,
    cb: (err: grpc.ServiceError | null, res: infer Res) => void,
  ) => unknown
    ? (req: Req) => Promise<Res>
    : never;
};

/** The generated client, each unary method returning a promise. */
export function curriculumClient(address: string) {
  const client = new CurriculumServiceClient(address, grpc.credentials.createInsecure());
  const call = new Proxy({} as Promised, {
    get: (_, name: string) => (req: unknown) =>
      new Promise((resolve, reject) => {
        const method = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
        if (!method) return reject(new Error(`no method ${name}`));
        method.call(client, req, new grpc.Metadata(), (err: unknown, res: unknown) =>
          err ? reject(err) : resolve(res),
        );
      }),
  });
  return { call, close: () => client.close() };
}

/** The status error of a call that must fail. */
export function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: grpc.ServiceError) => e,
  );
}

export async function checkHealth(address: string, service = ""): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as {
    Check(
      req: { service: string },
      cb: (err: grpc.ServiceError | null, res: { status: string }) => void,
    ): void;
    close(): void;
  };
  try {
    return await new Promise((resolve, reject) =>
      client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}
