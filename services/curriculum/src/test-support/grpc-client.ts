import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { promiseClient } from "@otmetka/service-kit";
import { rejectionOf } from "@otmetka/testing";

export { checkHealth } from "@otmetka/service-kit";

/** The generated client with every unary method as a promise. */
export function curriculumClient(address: string) {
  const client = new CurriculumServiceClient(address, grpc.credentials.createInsecure());
  return { call: promiseClient(client), close: () => client.close() };
}

/** The status error of a call that must fail. */
export const grpcError = (p: Promise<unknown>) => rejectionOf<grpc.ServiceError>(p);
