import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import { startTelemetry } from "./telemetry.js";

// A stand-in OTLP/HTTP collector that records what it is sent.
const received: { path: string; body: Buffer }[] = [];
const collector = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    received.push({ path: req.url ?? "", body: Buffer.concat(chunks) });
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});

afterAll(() => new Promise<void>((r) => collector.close(() => r())));

describe("telemetry with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("exports spans to the collector and shuts down promptly", async () => {
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    const { port } = collector.address() as AddressInfo;
    const telemetry = startTelemetry({
      serviceName: "otlp-test",
      otlpEndpoint: `http://127.0.0.1:${port}/`,
    });
    expect(telemetry.exporter).toBe("otlp");
    trace.getTracer("otlp-test").startSpan("exported-span").end();

    const t0 = Date.now();
    await telemetry.shutdown();
    expect(Date.now() - t0).toBeLessThan(3000);
    const traces = received.filter((r) => r.path === "/v1/traces");
    expect(traces.length).toBeGreaterThan(0);
    expect(Buffer.concat(traces.map((t) => t.body)).toString("latin1")).toContain("exported-span");
    expect(received.every((r) => r.path === "/v1/traces" || r.path === "/v1/metrics")).toBe(true);
  });
});
