import { Writable } from "node:stream";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { context, ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsNames } from "./nats-names.js";
import { extractTraceContext, injectTraceHeaders } from "./nats-trace-carrier.js";
import { startTelemetry } from "./telemetry.js";

// Telemetry starts before anything in this file loads @grpc/grpc-js: the gRPC modules (kit,
// generated client) are imported dynamically below, after this line has run.
const telemetry = startTelemetry({ serviceName: "trace-flow-test", exporter: "memory" });
const env = useTestEnvironment({ label: "trace" });
const tracer = trace.getTracer("trace-flow-test");
const logLines: Record<string, unknown>[] = [];

let nc: NatsConnection;
let stopServer: () => Promise<void>;
let address: string;

beforeAll(async () => {
  const grpc = await import("@grpc/grpc-js");
  const { DemoServiceService } = await import("@otmetka/proto/demo/v1/demo_service");
  const { startGrpcServer } = await import("./grpc-server.js");
  const { unaryHandler } = await import("./grpc-errors.js");
  const { createLogger } = await import("./logger.js");
  expect(grpc.Server).toBeTypeOf("function");

  const names = natsNames(env.natsPrefix);
  nc = await connect({ servers: env.natsUrl });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add(names.contextStream("trace"));
  const js = jetstream(nc);
  const destination = new Writable({
    write(chunk, _enc, done) {
      logLines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = createLogger({ service: "trace-flow-test", level: "info", destination });

  // A handler as services write them: publish inside the server span's context.
  const implementation = {
    sendGreeting: unaryHandler(logger, async (req: { text: string }) => {
      const traceId = trace.getActiveSpan()?.spanContext().traceId ?? "";
      logger.info("greeting received");
      await tracer.startActiveSpan(
        "publish trace.greeted",
        { kind: SpanKind.PRODUCER },
        async (span) => {
          const h = injectTraceHeaders(headers());
          await js.publish(names.subject("trace.v1._._._.Greeted"), JSON.stringify(req), {
            headers: h,
          });
          span.end();
        },
      );
      return { text: req.text, traceId };
    }),
  };
  const server = await startGrpcServer({
    port: 0,
    host: "127.0.0.1",
    services: [{ definition: DemoServiceService, implementation }],
    logger,
    graceMs: 0,
    drainTimeoutMs: 1000,
  });
  address = `127.0.0.1:${server.port}`;
  stopServer = server.shutdown;
});

afterAll(async () => {
  await stopServer?.();
  await nc?.close();
  await telemetry.shutdown();
});

describe("trace context across gRPC and NATS", () => {
  it("keeps one trace id from a gRPC call through a NATS publish to a NATS consume", async () => {
    const { credentials } = await import("@grpc/grpc-js");
    const { DemoServiceClient } = await import("@otmetka/proto/demo/v1/demo_service");
    const names = natsNames(env.natsPrefix);
    const client = new DemoServiceClient(address, credentials.createInsecure());
    const response = await new Promise<{ traceId: string }>((resolve, reject) =>
      client.sendGreeting({ text: "hi" }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    client.close();
    expect(response.traceId).toMatch(/^[0-9a-f]{32}$/);

    // The consuming side: a durable consumer that continues the trace it finds in the headers.
    const jsm = await jetstreamManager(nc);
    const stream = names.contextStream("trace").name;
    await jsm.consumers.add(stream, {
      durable_name: names.durable("test-trace"),
      ack_policy: AckPolicy.Explicit,
    });
    const consumer = await jetstream(nc).consumers.get(stream, names.durable("test-trace"));
    const msg = await consumer.next({ expires: 5000 });
    expect(msg).not.toBeNull();
    const parent = extractTraceContext(msg!.headers, ROOT_CONTEXT);
    const consumedTraceId = context.with(parent, () =>
      tracer.startActiveSpan("process trace.greeted", { kind: SpanKind.CONSUMER }, (span) => {
        msg!.ack();
        span.end();
        return span.spanContext().traceId;
      }),
    );
    expect(consumedTraceId).toBe(response.traceId);

    const spans = telemetry.memoryExporter!.getFinishedSpans();
    const byKind = (kind: SpanKind) => spans.filter((s) => s.kind === kind);
    const serverSpan = byKind(SpanKind.SERVER).find((s) => s.name.includes("SendGreeting"));
    const clientSpan = byKind(SpanKind.CLIENT).find((s) => s.name.includes("SendGreeting"));
    const publish = byKind(SpanKind.PRODUCER)[0];
    const consume = byKind(SpanKind.CONSUMER)[0];
    expect(serverSpan, "grpc server span from the instrumentation").toBeDefined();
    expect(clientSpan, "grpc client span from the instrumentation").toBeDefined();
    for (const span of [serverSpan!, clientSpan!, publish!, consume!]) {
      expect(span.spanContext().traceId).toBe(response.traceId);
    }
    expect(serverSpan!.parentSpanContext?.spanId).toBe(clientSpan!.spanContext().spanId);
    expect(publish!.parentSpanContext?.spanId).toBe(serverSpan!.spanContext().spanId);
    expect(consume!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);

    // Logs written inside the handler carry the ids of the server span.
    expect(logLines.find((l) => l.msg === "greeting received")).toMatchObject({
      service: "trace-flow-test",
      trace_id: response.traceId,
      span_id: serverSpan!.spanContext().spanId,
    });
  });
});
