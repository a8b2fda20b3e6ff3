import * as grpc from "@grpc/grpc-js";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { service as healthService } from "grpc-health-check";

type Unary<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res: Res) => void,
) => unknown;

type Methods = {
  [K in keyof IdentityServiceClient]: IdentityServiceClient[K] extends (
    req: infer Req,
    md: grpc.Metadata,
    opts: Partial<grpc.CallOptions>,
    cb: (err: grpc.ServiceError | null, res: infer Res) => void,
  ) => unknown
    ? (req: Req) => Promise<Res>
    : never;
};

/** The generated client with every unary method as a promise. */
export function identityClient(address: string) {
  const client = new IdentityServiceClient(address, grpc.credentials.createInsecure());
  const call = new Proxy({} as Methods, {
    get(_, name: string) {
      const method = (client as unknown as Record<string, Unary<unknown, unknown>>)[name];
      if (typeof method !== "function") throw new Error(`no method ${name}`);
      return (req: unknown) =>
        new Promise((resolve, reject) =>
          method.call(client, req, new grpc.Metadata(), (err, res) =>
            err ? reject(err) : resolve(res),
          ),
        );
    },
  });
  return { call, close: () => client.close() };
}

/** The rejected call's status error. */
export async function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: grpc.ServiceError) => e,
  );
}

export async function checkHealth(address: string, service = ""): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(address, grpc.credentials.createInsecure());
  try {
    const check = (
      client as unknown as {
        Check(
          req: { service: string },
          cb: (err: grpc.ServiceError | null, res: { status: string }) => void,
        ): void;
      }
    ).Check.bind(client);
    return await new Promise((resolve, reject) =>
      check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}
