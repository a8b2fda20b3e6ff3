import * as grpc from "@grpc/grpc-js";
import { AuthServiceClient } from "@otmetka/proto/identity/v1/auth_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { bearerMetadata, promiseClient } from "@otmetka/service-kit";

export { checkHealth } from "@otmetka/service-kit";

/** A promise client whose calls carry `token` unless given their own metadata. */
function withToken<C extends grpc.Client>(client: C, token: string | undefined) {
  const calls = promiseClient(client);
  if (!token) return calls;
  return new Proxy(calls, {
    get(target, name: string) {
      const method = (target as Record<string, (req: unknown, md?: grpc.Metadata) => unknown>)[
        name
      ]!;
      return (req: unknown, md?: grpc.Metadata) => method(req, md ?? bearerMetadata(token));
    },
  });
}

/** The generated client with every unary method as a promise, calling with `token`. */
export function identityClient(address: string, token?: string) {
  const client = new IdentityServiceClient(address, grpc.credentials.createInsecure());
  return { call: withToken(client, token), close: () => client.close() };
}

export function authClient(address: string, token?: string) {
  const client = new AuthServiceClient(address, grpc.credentials.createInsecure());
  return { call: withToken(client, token), close: () => client.close() };
}

/** Logs in over gRPC; the access token. */
export async function loginOverGrpc(address: string, username: string, password: string) {
  const c = authClient(address);
  try {
    return (await c.call.login({ username, password })).tokens!.accessToken;
  } finally {
    c.close();
  }
}

export { grpcError } from "@otmetka/testing";
