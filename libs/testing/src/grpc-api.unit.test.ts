import * as grpc from "@grpc/grpc-js";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { grpcError, startTestGrpcApi, TEST_GRPC_SERVER_OPTIONS } from "./grpc-api.js";

/* A one-method service defined by hand: the authorization header each call carried. */
const echoDefinition = {
  echo: {
    path: "/test.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: string) => Buffer.from(v),
    requestDeserialize: (b: Buffer) => b.toString(),
    responseSerialize: (v: string) => Buffer.from(v),
    responseDeserialize: (b: Buffer) => b.toString(),
  },
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(echoDefinition, "Echo");

async function serveEcho() {
  const server = new grpc.Server();
  server.addService(echoDefinition, {
    echo: (call: grpc.ServerUnaryCall<string, string>, done: grpc.sendUnaryData<string>) =>
      done(null, String(call.metadata.get("authorization")[0] ?? "")),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${TEST_GRPC_SERVER_OPTIONS.host}:${TEST_GRPC_SERVER_OPTIONS.port}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  return {
    port,
    shutdown: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

const echo = (client: grpc.Client, md: grpc.Metadata) =>
  new Promise<string>((resolve, reject) =>
    (
      client as unknown as {
        echo(r: string, m: grpc.Metadata, cb: (e: Error | null, v: string) => void): void;
      }
    ).echo("ping", md, (err, v) => (err ? reject(err) : resolve(v))),
  );

describe("startTestGrpcApi", () => {
  it("serves on a free loopback port; `as` signs a token the issuer's JWKS verifies", async () => {
    const api = await startTestGrpcApi(async (issuer) => {
      expect(issuer.jwksUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      return serveEcho();
    });
    try {
      expect(api.address).toBe(`127.0.0.1:${api.server.port}`);
      const client = api.connect(EchoClient);
      const header = await echo(client, await api.as(["TEACHER@school:s1"], "p1"));
      const claims = decodeJwt(header.replace(/^Bearer /, ""));
      expect(claims).toMatchObject({ roles: ["TEACHER@school:s1"], pid: "p1" });
      expect(await echo(client, await api.as(["ADMIN"]))).toMatch(/^Bearer /);
    } finally {
      await api.close();
    }
    // The server is down: a new client's call fails as UNAVAILABLE.
    const late = new EchoClient(api.address, grpc.credentials.createInsecure());
    try {
      expect((await grpcError(echo(late, new grpc.Metadata()))).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      late.close();
    }
    await expect(fetch(api.issuer.jwksUrl)).rejects.toThrow();
  });

  it("stops the issuer when the server does not start", async () => {
    let jwksUrl = "";
    await expect(
      startTestGrpcApi(async (issuer) => {
        jwksUrl = issuer.jwksUrl;
        throw new Error("port taken");
      }),
    ).rejects.toThrow("port taken");
    await expect(fetch(jwksUrl)).rejects.toThrow();
  });
});
