import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SpanKind, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTelemetry } from "./telemetry.js";

// The kit's own HTTP-server and gRPC tracing (trace-http-server.ts, trace-grpc.ts): an HTTP
// request whose handler calls a gRPC service, with a sampled and with an unsampled traceparent
// (the default sampler is parent-based), through grpc-js's client and through the kit's
// h2PromiseClient. Telemetry starts before grpc-js is imported.
const telemetry = startTelemetry({ serviceName: "trace-sampling-test", exporter: "memory" });
const spans = () => telemetry.memoryExporter?.getFinishedSpans() ?? [];

let http: Server;
let httpUrl: (client: "grpc-js" | "h2") => string;
let stop: () => Promise<void>;
/** What the gRPC handler saw: the active trace id and the traceparent it was sent. */
const seen: { traceId: string; traceparent: string; recording: boolean }[] = [];

beforeAll(async () => {
  const grpc = await import("@grpc/grpc-js");
  const demo = await import("@otmetka/proto/demo/v1/demo_service");
  const { startGrpcServer } = await import("./grpc-server.js");
  const { createLogger } = await import("./logger.js");
  const { h2PromiseClient } = await import("./h2-unary-client.js");
  const server = await startGrpcServer({
    port: 0,
    host: "127.0.0.1",
    services: [
      {
        definition: demo.DemoServiceService,
        implementation: {
          sendGreeting: (
            call: { request: { text: string }; metadata: InstanceType<typeof grpc.Metadata> },
            cb: (e: null, r: unknown) => void,
          ) => {
            const span = trace.getActiveSpan();
            seen.push({
              traceId: span?.spanContext().traceId ?? "",
              traceparent: String(call.metadata.get("traceparent")[0] ?? ""),
              recording: span?.isRecording() ?? false,
            });
            cb(null, { text: call.request.text, traceId: "" });
          },
        },
      },
    ],
    logger: createLogger({ service: "trace-sampling-test", level: "warn" }),
    graceMs: 0,
    drainTimeoutMs: 1000,
  });
  const client = new demo.DemoServiceClient(
    `127.0.0.1:${server.port}`,
    grpc.credentials.createInsecure(),
  );
  const h2 = h2PromiseClient<typeof client>(demo.DemoServiceService, `127.0.0.1:${server.port}`);
  // An HTTP handler as the gateway's: it awaits, then calls the service.
  http = createServer(async (req, res) => {
    await new Promise((r) => setImmediate(r));
    if (req.url?.endsWith("client=h2")) await h2.sendGreeting({ text: "hi" });
    else
      await new Promise((resolve, reject) =>
        client.sendGreeting({ text: "hi" }, (err, r) => (err ? reject(err) : resolve(r))),
      );
    res.end("ok");
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpUrl = (c) =>
    `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql?x=1&client=${c}`;
  stop = async () => {
    client.close();
    h2.close();
    await new Promise((r) => http.close(r));
    await server.shutdown();
  };
});

afterAll(async () => {
  await stop?.();
  await telemetry.shutdown();
});

beforeEach(() => {
  telemetry.memoryExporter?.reset();
  seen.length = 0;
});

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
describe.each(["grpc-js", "h2"] as const)("HTTP server and gRPC tracing, %s client", (c) => {
  const get = (flags: string) =>
    fetch(httpUrl(c), { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-${flags}` } });

  it("records a sampled request's server, client and callee spans as one trace", async () => {
    expect((await get("01")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50)); // the HTTP span ends on the response's close
    const [httpSpan] = spans().filter((s) => s.kind === SpanKind.SERVER && s.name === "GET");
    const client = spans().find((s) => s.kind === SpanKind.CLIENT);
    const server = spans().find((s) => s.kind === SpanKind.SERVER && s.name.includes("Greeting"));
    expect(httpSpan?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(httpSpan?.attributes).toMatchObject({
      "http.request.method": "GET",
      "url.path": "/graphql",
      "http.response.status_code": 200,
    });
    expect(client?.parentSpanContext?.spanId).toBe(httpSpan?.spanContext().spanId);
    expect(client?.name).toBe("grpc.otmetka.demo.v1.DemoService/SendGreeting");
    expect(client?.attributes["rpc.grpc.status_code"]).toBe(0);
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    expect(server?.attributes).toMatchObject({ "rpc.method": "SendGreeting" });
    for (const s of [httpSpan, client, server]) expect(s?.spanContext().traceId).toBe(traceId);
    expect(seen[0]).toMatchObject({ traceId, recording: true });
  });

  it("records nothing for an unsampled request, and still carries its trace on", async () => {
    expect((await get("00")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(spans()).toEqual([]);
    // The callee is in the caller's trace, unsampled (W3C flags 00).
    expect(seen[0]?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    expect(seen[0]).toMatchObject({ traceId, recording: false });
  });

  it("starts a root trace for a request without a traceparent", async () => {
    expect((await fetch(httpUrl(c))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const httpSpan = spans().find((s) => s.kind === SpanKind.SERVER && s.name === "GET");
    expect(httpSpan?.parentSpanContext).toBeUndefined();
    expect(seen[0]?.traceId).toBe(httpSpan?.spanContext().traceId);
  });
});
