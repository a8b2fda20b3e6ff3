import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import {
  DemoServiceClient,
  DemoServiceService,
  type SendGreetingRequest,
  type SendGreetingResponse,
} from "@otmetka/proto/demo/v1/demo_service";
import { afterEach, describe, expect, it } from "vitest";
import { unaryHandler } from "./grpc-errors.js";
import { findProtoRoot } from "./grpc-reflection.js";
import { type GrpcServer, startGrpcServer } from "./grpc-server.js";
import { createLogger } from "./logger.js";
import { checkHealth, reflect } from "./test-support/grpc-clients.js";

const logger = createLogger({
  service: "grpc-server-test",
  level: "warn",
  destination: new Writable({ write: (_c, _e, done) => done() }),
});
const protoRoot = findProtoRoot(createRequire(import.meta.url).resolve("@otmetka/proto/values"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Echo; a text "sleep:<ms>" answers after that long, to have calls in flight. */
const demo = {
  sendGreeting: unaryHandler(logger, async (req: SendGreetingRequest) => {
    const m = /^sleep:(\d+)$/.exec(req.text);
    if (m) await sleep(Number(m[1]));
    return { text: req.text, traceId: "" } satisfies SendGreetingResponse;
  }),
};

function greet(address: string, text: string): Promise<SendGreetingResponse> {
  const client = new DemoServiceClient(address, credentials.createInsecure());
  return new Promise<SendGreetingResponse>((resolve, reject) =>
    client.sendGreeting({ text }, (err, res) => (err ? reject(err) : resolve(res))),
  ).finally(() => client.close());
}

const servers: GrpcServer[] = [];
async function start(graceMs: number, drainTimeoutMs: number): Promise<[GrpcServer, string]> {
  const server = await startGrpcServer({
    port: 0,
    host: "127.0.0.1",
    services: [{ definition: DemoServiceService, implementation: demo }],
    logger,
    reflection: { protoRoot },
    graceMs,
    drainTimeoutMs,
  });
  servers.push(server);
  return [server, `127.0.0.1:${server.port}`];
}

afterEach(async () => {
  for (const s of servers.splice(0)) s.server.forceShutdown();
});

describe("gRPC server bootstrap", () => {
  it("answers health SERVING, NOT_SERVING during the grace period, then stops after draining", async () => {
    const graceMs = 1000; // generous, so the steps below fit in it on a loaded machine
    const [server, address] = await start(graceMs, 5000);
    expect(await checkHealth(address)).toBe("SERVING");
    expect(await checkHealth(address, "otmetka.demo.v1.DemoService")).toBe("SERVING");
    expect((await greet(address, "hello")).text).toBe("hello");

    let stopped = false;
    const t0 = Date.now();
    const stopping = server.shutdown().then(() => {
      stopped = true;
    });
    // Grace period: health tells balancers to go away, but calls are still taken.
    expect(await checkHealth(address)).toBe("NOT_SERVING");
    expect(await checkHealth(address, "otmetka.demo.v1.DemoService")).toBe("NOT_SERVING");
    const inFlight = greet(address, "sleep:1200");
    await sleep(50);
    expect(Date.now() - t0, "still inside the grace period").toBeLessThan(graceMs);

    // After the grace period the server drains the call above and accepts no new one.
    await sleep(t0 + graceMs + 200 - Date.now());
    expect(stopped).toBe(false);
    await expect(greet(address, "late")).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect((await inFlight).text).toBe("sleep:1200");
    await stopping;
    await expect(checkHealth(address)).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it("cancels calls still running after the drain timeout", async () => {
    const [server, address] = await start(0, 300);
    const inFlight = greet(address, "sleep:3000");
    await sleep(100);
    const t0 = Date.now();
    await server.shutdown();
    expect(Date.now() - t0).toBeLessThan(1500);
    const err = (await inFlight.catch((e: unknown) => e)) as ServiceError;
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain(err.code);
  });

  it("lists the service through reflection and serves its descriptors", async () => {
    const [, address] = await start(0, 1000);
    const listed = await reflect(address, { listServices: "*" });
    expect(listed.listServicesResponse?.service.map((s) => s.name)).toEqual([
      "otmetka.demo.v1.DemoService",
    ]);
    const file = await reflect(address, { fileContainingSymbol: "otmetka.demo.v1.DemoService" });
    expect(file.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
    const unknown = await reflect(address, { fileContainingSymbol: "otmetka.nope.v1.Nope" });
    expect(unknown.errorResponse?.errorMessage).toBeTruthy();
  });
});
