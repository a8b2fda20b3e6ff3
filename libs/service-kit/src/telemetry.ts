import { createRequire } from "node:module";
import { metrics as metricsApi, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { metrics, NodeSDK } from "@opentelemetry/sdk-node";
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { traceGrpc } from "./trace-grpc.js";
import { traceHttpServers } from "./trace-http-server.js";
import { tracePg } from "./trace-pg.js";

/*
 * This module must not import @grpc/grpc-js or pg (directly or through other kit modules):
 * services import it first, and instrumentation only takes hold of modules loaded after
 * `sdk.start()`. It is exported alone as `@otmetka/service-kit/telemetry` for that reason.
 */

export type TelemetryExporter = "otlp" | "memory" | "none";

export interface TelemetryOptions {
  serviceName: string;
  /**
   * "otlp": traces and metrics to `otlpEndpoint` (OTEL_EXPORTER_OTLP_ENDPOINT);
   * "memory": spans kept in `memoryExporter`, for tests;
   * "none": spans are made (trace ids in logs and propagation work) but not exported.
   * Default: "otlp" when an endpoint is given, else "none".
   */
  exporter?: TelemetryExporter;
  otlpEndpoint?: string | undefined;
}

export interface Telemetry {
  readonly exporter: TelemetryExporter;
  /** Finished spans when `exporter` is "memory". */
  readonly memoryExporter: InMemorySpanExporter | undefined;
  /** Flushes and stops exporting; safe to call twice. */
  shutdown(): Promise<void>;
}

const started = Symbol.for("otmetka.service-kit.telemetry");
type GlobalWithTelemetry = typeof globalThis & { [started]?: Telemetry };

/**
 * Starts the OpenTelemetry Node SDK with the W3C trace context propagator and this kit's lean
 * gRPC, HTTP-server and pg tracing (trace-grpc.ts, trace-http-server.ts, trace-pg.ts: an
 * unsampled call or query costs next to nothing). Call it before anything imports @grpc/grpc-js or pg.
 * Starting twice in one process returns the first instance (a second SDK would fight over the
 * global providers).
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const global = globalThis as GlobalWithTelemetry;
  const existing = global[started];
  if (existing) return existing;

  const endpoint = options.otlpEndpoint?.replace(/\/+$/, "");
  const exporter = options.exporter ?? (endpoint ? "otlp" : "none");
  if (exporter === "otlp" && !endpoint) {
    throw new Error("startTelemetry: exporter 'otlp' needs otlpEndpoint");
  }
  const memoryExporter = exporter === "memory" ? new InMemorySpanExporter() : undefined;
  const spanProcessor: SpanProcessor =
    exporter === "otlp"
      ? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))
      : memoryExporter
        ? new SimpleSpanProcessor(memoryExporter)
        : // NodeSDK registers no tracer provider without a processor, and then spans would
          // have no ids: a no-op processor keeps ids for logs and propagation.
          new NoopSpanProcessor();

  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ "service.name": options.serviceName }),
    autoDetectResources: false,
    textMapPropagator: new W3CTraceContextPropagator(),
    spanProcessors: [spanProcessor],
    // Without these empty lists NodeSDK 0.223 sets up OTLP metric and log exporters to
    // 127.0.0.1:4318 from its defaults, and shutdown then hangs ~9 s when nothing listens.
    metricReaders:
      exporter === "otlp"
        ? [
            new metrics.PeriodicExportingMetricReader({
              exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
            }),
          ]
        : [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();

  const tracer = trace.getTracer("@otmetka/service-kit");
  // Durations are measured only when metrics go somewhere.
  const meter = exporter === "otlp" ? metricsApi.getMeter("@otmetka/service-kit") : undefined;
  const seconds = { unit: "s" };
  // grpc-js loaded through require, right now, before any `import` of it: the client
  // constructors are replaced on the shared CommonJS exports, which later `import`s copy
  // (works under node, tsx and vitest alike).
  const untraceGrpc = traceGrpc(
    createRequire(import.meta.url)("@grpc/grpc-js"),
    tracer,
    meter?.createHistogram("rpc.server.duration", seconds),
  );
  const untracePg = tracePg(
    createRequire(import.meta.url)("pg"),
    tracer,
    meter?.createHistogram("db.client.operation.duration", seconds),
  );
  const untraceHttp = traceHttpServers(
    tracer,
    meter?.createHistogram("http.server.request.duration", seconds),
  );

  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    exporter,
    memoryExporter,
    shutdown() {
      untraceHttp();
      untracePg();
      untraceGrpc();
      stopping ??= sdk.shutdown().finally(() => {
        delete global[started];
      });
      return stopping;
    },
  };
  global[started] = telemetry;
  return telemetry;
}
