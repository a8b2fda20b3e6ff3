import * as grpc from "@grpc/grpc-js";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { promiseClient } from "@otmetka/service-kit";
import { rejectionOf } from "@otmetka/testing";

export { checkHealth } from "@otmetka/service-kit";

/** The generated client with every unary method as a promise. */
export function identityClient(address: string) {
  const client = new IdentityServiceClient(address, grpc.credentials.createInsecure());
  return { call: promiseClient(client), close: () => client.close() };
}

/** The status error of a call that must fail. */
export const grpcError = (p: Promise<unknown>) => rejectionOf<grpc.ServiceError>(p);
