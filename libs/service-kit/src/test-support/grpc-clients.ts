import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";

/** Test clients for the standard services; loaded after telemetry where that matters. */

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;

export async function checkHealth(address: string, service = ""): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(address, grpc.credentials.createInsecure());
  try {
    const check = (client as unknown as { Check: Unary<{ service: string }, { status: string }> })
      .Check;
    return await new Promise((resolve, reject) =>
      check.call(client, { service }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

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
