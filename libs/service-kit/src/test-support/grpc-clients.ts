import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/** Test client for the reflection service (health: see ../grpc-client.ts). */
export { checkHealth } from "../grpc-client.js";

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorMessage: string };
}

/** One request on the v1 reflection stream, as grpcurl would send it. */
export async function reflect(
  address: string,
  request: { listServices: string } | { fileContainingSymbol: string },
): Promise<ReflectionResponse> {
  const reflectionPackage = dirname(createRequire(import.meta.url).resolve("@grpc/reflection"));
  const protoDir = join(reflectionPackage, "..", "proto");
  const def = loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [protoDir] });
  const loaded = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(
    address,
    grpc.credentials.createInsecure(),
  );
  try {
    const stream = (
      client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, unknown> }
    ).ServerReflectionInfo();
    return await new Promise((resolve, reject) => {
      stream.once("data", (res) => {
        resolve(res as ReflectionResponse);
        stream.end();
      });
      stream.once("error", reject);
      stream.write(request);
    });
  } finally {
    client.close();
  }
}
