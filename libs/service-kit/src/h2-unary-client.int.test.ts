import http2 from "node:http2";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import {
  type DemoServiceClient,
  DemoServiceService,
  type SendGreetingRequest,
  SendGreetingResponse,
} from "@otmetka/proto/demo/v1/demo_service";
import { afterEach, describe, expect, it } from "vitest";
import { h2PromiseClient } from "./h2-unary-client.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Call = grpc.ServerUnaryCall<SendGreetingRequest, SendGreetingResponse>;

/**
 * A grpc-js server of the demo service. The text says what to do: "sleep:<ms>" answers late,
 * "fail" answers INVALID_ARGUMENT with a `field` trailer, "big:<n>" answers n characters,
 * "headers" answers the request's authorization, traceparent and deadline as text.
 */
async function startServer(port = 0) {
  const server = new grpc.Server();
  server.addService(DemoServiceService, {
    sendGreeting: async (call: Call, cb: grpc.sendUnaryData<SendGreetingResponse>) => {
      const text = call.request.text;
      const slept = /^sleep:(\d+)$/.exec(text);
      if (slept) await sleep(Number(slept[1]));
      if (text === "fail") {
        const metadata = new grpc.Metadata();
        metadata.set("field", "text");
        return cb({ code: grpc.status.INVALID_ARGUMENT, details: "text: bad: 100%", metadata });
      }
      const big = /^big:(\d+)$/.exec(text);
      if (big) return cb(null, { text: "x".repeat(Number(big[1])), traceId: "" });
      if (text === "headers") {
        const deadline = call.getDeadline();
        const left = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
        const echo = [
          call.metadata.get("authorization")[0],
          call.metadata.get("traceparent")[0] ?? "",
          left > 0 && left <= 2000 ? "deadline" : `no deadline ${left}`,
        ];
        return cb(null, { text: echo.join("|"), traceId: "" });
      }
      cb(null, { text, traceId: "" });
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port: bound };
}

const servers: grpc.Server[] = [];
const clients: { close(): void }[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.forceShutdown();
});

async function setUp(timeoutMs?: number, maxResponseBytes?: number) {
  const { server, port } = await startServer();
  servers.push(server);
  const client = h2PromiseClient<DemoServiceClient>(DemoServiceService, `127.0.0.1:${port}`, {
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(maxResponseBytes ? { maxResponseBytes } : {}),
  });
  clients.push(client);
  return { client, port };
}

describe("h2PromiseClient", () => {
  it("answers each of many concurrent calls with its own response", async () => {
    const { client } = await setUp();
    const texts = Array.from({ length: 200 }, (_, i) => `hello ${i} привет`);
    const answers = await Promise.all(texts.map((text) => client.sendGreeting({ text })));
    expect(answers.map((a) => a.text)).toEqual(texts);
  });

  it("sends the call's metadata and a deadline", async () => {
    const { client } = await setUp(2000);
    const metadata = new grpc.Metadata();
    metadata.set("authorization", "Bearer t0ken");
    const res = await client.sendGreeting({ text: "headers" }, metadata);
    expect(res.text).toBe("Bearer t0ken||deadline");
  });

  it("fails as grpc-js does: code, details, trailers as metadata", async () => {
    const { client } = await setUp();
    const err = await client.sendGreeting({ text: "fail" }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toBe("text: bad: 100%");
    expect(err?.message).toBe("3 INVALID_ARGUMENT: text: bad: 100%");
    expect(err?.metadata.get("field")).toEqual(["text"]);
  });

  it("ends a call at its deadline with DEADLINE_EXCEEDED", async () => {
    const { client } = await setUp(150);
    const started = Date.now();
    const err = await client.sendGreeting({ text: "sleep:1000" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(900);
    // The session stays usable.
    expect((await client.sendGreeting({ text: "after" })).text).toBe("after");
  });

  it("refuses a response above the size limit with RESOURCE_EXHAUSTED", async () => {
    const { client } = await setUp(undefined, 1000);
    expect((await client.sendGreeting({ text: "big:900" })).text).toHaveLength(900);
    const err = await client.sendGreeting({ text: "big:5000" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("answers UNAVAILABLE while the server is down and reconnects once it is back", async () => {
    const { client, port } = await setUp();
    expect((await client.sendGreeting({ text: "one" })).text).toBe("one");
    for (const s of servers.splice(0)) s.forceShutdown();
    const down = await client.sendGreeting({ text: "two" }).catch((e) => e);
    expect(down.code).toBe(grpc.status.UNAVAILABLE);
    const again = await startServer(port);
    servers.push(again.server);
    expect((await client.sendGreeting({ text: "three" })).text).toBe("three");
  });

  it("fails calls in flight when the server goes away, as UNAVAILABLE", async () => {
    const { client } = await setUp();
    const inFlight = client.sendGreeting({ text: "sleep:2000" }).catch((e) => e);
    await sleep(100);
    for (const s of servers.splice(0)) s.forceShutdown();
    expect((await inFlight).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("replaces a connection that went silent once a call has timed out", async () => {
    const { port } = await setUp();
    // A proxy whose connections can go silent: nothing more passes either way, no FIN, no RST.
    const sockets: net.Socket[] = [];
    let silent = false;
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect(port, "127.0.0.1");
      sockets.push(inbound, outbound);
      inbound.on("data", (d) => silent || outbound.write(d));
      outbound.on("data", (d) => silent || inbound.write(d));
      for (const s of [inbound, outbound]) s.on("error", () => {});
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    const client = h2PromiseClient<DemoServiceClient>(
      DemoServiceService,
      `127.0.0.1:${proxyPort}`,
      {
        timeoutMs: 200,
        probeMs: 200,
      },
    );
    clients.push(client);
    try {
      expect((await client.sendGreeting({ text: "before" })).text).toBe("before");
      silent = true;
      const err = await client.sendGreeting({ text: "lost" }).catch((e) => e);
      expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      await sleep(400); // the probe's ping goes unanswered: the session is destroyed
      silent = false; // a new connection would pass; the old one stays silent
      const old = sockets.splice(0);
      for (const s of old) s.removeAllListeners("data");
      expect((await client.sendGreeting({ text: "after" })).text).toBe("after");
    } finally {
      for (const s of sockets) s.destroy();
      proxy.close();
    }
  });

  it("sends a stream the server refused unread (REFUSED_STREAM) once more", async () => {
    // A bare HTTP/2 server: it refuses the first stream, answers the second as gRPC does.
    let streams = 0;
    const server = http2.createServer();
    server.on("stream", (stream) => {
      stream.on("error", () => {}); // the refusal's own close
      if (++streams === 1) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      const body = Buffer.from(
        SendGreetingResponse.encode({ text: "again", traceId: "" }).finish(),
      );
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      stream.respond(
        { ":status": 200, "content-type": "application/grpc" },
        { waitForTrailers: true },
      );
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const client = h2PromiseClient<DemoServiceClient>(DemoServiceService, `127.0.0.1:${port}`);
    clients.push(client);
    try {
      expect((await client.sendGreeting({ text: "x" })).text).toBe("again");
      expect(streams).toBe(2);
    } finally {
      client.close();
      server.close();
    }
  });

  it("refuses calls after close and names unknown methods", async () => {
    const { client } = await setUp();
    expect(() => (client as unknown as Record<string, unknown>).noSuchMethod).toThrow(
      "gRPC client has no unary method noSuchMethod",
    );
    client.close();
    const err = await client.sendGreeting({ text: "x" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });
});
